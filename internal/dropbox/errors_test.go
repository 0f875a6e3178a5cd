package dropbox

import (
	"errors"
	"testing"

	sdk "github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/auth"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"
)

func tagged(tag string) sdk.Tagged { return sdk.Tagged{Tag: tag} }

func finishErr(tag string, path string) *files.UploadSessionFinishError {
	e := &files.UploadSessionFinishError{Tagged: tagged(tag)}
	if path != "" {
		e.Path = &files.WriteError{Tagged: tagged(path)}
	}
	return e
}

// TestErrorKinds is the decision table for Dropbox's refusals: what retrying fixes, what
// only a change of the file fixes (KindFile, with a stable Code), what is the account's.
func TestErrorKinds(t *testing.T) {
	uploadErr := func(tag, reason string) error {
		e := &files.UploadError{Tagged: tagged(tag)}
		if reason != "" {
			e.Path = &files.UploadWriteFailed{Reason: &files.WriteError{Tagged: tagged(reason)}}
		}
		return files.UploadAPIError{EndpointError: e}
	}
	finish := func(tag, path string) error {
		return files.UploadSessionFinishAPIError{EndpointError: finishErr(tag, path)}
	}
	for _, tc := range []struct {
		name string
		err  error
		kind Kind
		code string
	}{
		{"access restricted", finish("path", "access_restricted"), KindFile, "path/access_restricted"},
		{"encryption not supported", finish("encryption_not_supported", ""), KindFile, "encryption_not_supported"},
		{"unknown finish tag", finish("something_new", ""), KindFile, "unknown/something_new"},
		{"unknown write error", finish("path", "something_new"), KindFile, "path/unknown/something_new"},
		{"finish: other", finish("other", ""), KindFile, "unknown/other"},
		{"finish: content hash", finish("content_hash_mismatch", ""), KindRetryFile, "content_hash_mismatch"},
		{"finish: concurrent session not closed", finish("concurrent_session_not_closed", ""), KindRetryFile, "concurrent_session_not_closed"},
		{"team folder full", finish("path", "team_folder_insufficient_space"), KindNoSpace, "path/team_folder_insufficient_space"},
		{"upload traffic limit", finish("path", "upload_traffic_limit_reached"), KindAccount, "path/upload_traffic_limit_reached"},
		{"upload: encryption", uploadErr("encryption_not_supported", ""), KindFile, "encryption_not_supported"},
		{"upload: unknown tag", uploadErr("something_new", ""), KindFile, "unknown/something_new"},
		{"upload: disallowed name", uploadErr("path", "disallowed_name"), KindFile, "path/disallowed_name"},
		{"upload: too large for upload", uploadErr("payload_too_large", ""), KindRetryFile, "payload_too_large"},
		{"append: too large", files.UploadSessionAppendV2APIError{EndpointError: &files.UploadSessionAppendError{Tagged: tagged("too_large")}}, KindFile, "too_large"},
		{"400 about a path", auth.BadRequest{APIError: sdk.APIError{ErrorSummary: `Error in call to API function "files/upload_session/finish": HTTP header "Dropbox-API-Arg": commit.path: "x" did not match pattern '(/(.|[\r\n])*)'`}}, KindFile, "bad_request/path"},
		{"400 about something else", auth.BadRequest{APIError: sdk.APIError{ErrorSummary: `Error in call to API function "files/upload_session/finish": unknown field "foo"`}}, KindOther, "bad_request"},
		{"400 from the front end", auth.BadRequest{APIError: sdk.APIError{ErrorSummary: "<center>Request Header Or Cookie Too Large</center>"}}, KindOther, "header_too_large"},
		{"403 team access", auth.AccessAPIError{AccessError: &auth.AccessError{Tagged: tagged("team_access_denied")}}, KindAccount, "team_access_denied"},
		{"401 route access denied", auth.AuthAPIError{AuthError: &auth.AuthError{Tagged: tagged("route_access_denied")}}, KindAccount, "route_access_denied"},
		{"401 missing scope", auth.AuthAPIError{AuthError: &auth.AuthError{Tagged: tagged("missing_scope")}}, KindReconnect, "missing_scope"},
		{"token source", errors.Join(errors.New("load token"), ErrTokenSource), KindTokenSource, "token_source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e *Error
			if !errors.As(translate(tc.err, nil), &e) || e.Kind != tc.kind || e.Code != tc.code {
				t.Fatalf("%+v, want kind %d code %s", e, tc.kind, tc.code)
			}
		})
	}
}

// TestBatchEntryKinds: entries refused under load are recommitted; the rest as finish.
func TestBatchEntryKinds(t *testing.T) {
	for _, tc := range []struct {
		entry *files.UploadSessionFinishError
		kind  Kind
		code  string
	}{
		{finishErr("too_many_write_operations", ""), KindRecommit, "too_many_write_operations"},
		{finishErr("internal_error", ""), KindRecommit, "internal_error"},
		{finishErr("path", "too_many_write_operations"), KindRecommit, "path/too_many_write_operations"},
		{finishErr("path", "conflict"), KindFile, "path/conflict"},
		{finishErr("lookup_failed", ""), KindRetryFile, "lookup_failed"},
		{finishErr("something_new", ""), KindFile, "unknown/something_new"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			if k, code := batchEntryKind(tc.entry); k != tc.kind || code != tc.code {
				t.Fatalf("%d %s, want %d %s", k, code, tc.kind, tc.code)
			}
		})
	}
}
