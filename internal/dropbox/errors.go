package dropbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/auth"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"
	"golang.org/x/oauth2"
)

// Kind is what a failure means for the caller: wait and retry, give up on this file, or
// stop the whole connection.
type Kind int

const (
	// KindTransient: a 5xx, a dropped connection, no network. Retry with backoff, or after
	// RetryAfter when a 503 gave one.
	KindTransient Kind = iota + 1
	// KindRateLimited: 429 too_many_requests, in JSON or as the front end's plain text.
	// Retry after RetryAfter. Dropbox is reachable: not offline.
	KindRateLimited
	// KindWriteContention: 429 too_many_write_operations, commits overlapped on the account.
	// Retry after RetryAfter, and commit less often.
	KindWriteContention
	// KindReconnect: the token was revoked or refresh was refused. Stop the connection until
	// the user connects it again; keep the queue.
	KindReconnect
	// KindNoSpace: the account is full. Pause the connection and retry later.
	KindNoSpace
	// KindFile: this file cannot be stored as asked and retrying will not change that
	// (disallowed name, too large, conflict with a folder, restricted access, a path
	// Dropbox refuses, an error tag this client does not know: Code "unknown/<tag>"). Code
	// says which; record it and retry only when the file changes.
	KindFile
	// KindRetryFile: this file's upload must be redone from the start (content hash
	// mismatch, expired or unknown session).
	KindRetryFile
	// KindOther: anything else (a 400 means a bug on our side). Logged, retried later.
	KindOther
	// KindRecommit: an entry of a batch commit was not committed, its upload session is
	// intact: commit it again after RetryAfter without sending its content again (Dropbox's
	// too_many_write_operations or internal_error inside finish_batch_v2's results).
	KindRecommit
	// KindAccount: Dropbox refuses the whole account, not this call (a team over its data
	// transport limit, a suspended user, an account type without access). UserMessage has
	// Dropbox's own words when it sent some. Stop the connection and try again slowly.
	KindAccount
	// KindTokenSource: the request never left because the token source failed (the
	// keychain could not be read). Nothing is wrong with Dropbox or the network.
	KindTokenSource
)

// Sentinel errors for errors.Is; every *Error matches the one of its Kind.
var (
	ErrTransient       = errors.New("dropbox: temporary failure")
	ErrRateLimited     = errors.New("dropbox: rate limited")
	ErrWriteContention = errors.New("dropbox: too many write operations")
	// ErrReconnect is the one "needs reconnect" sentinel: the token was revoked, refused
	// or cannot be read, whichever package found out.
	ErrReconnect = errors.New("Dropbox no longer accepts this connection: connect it again with the same Dropbox account")
	ErrNoSpace   = errors.New("the Dropbox is full: free up space or upgrade, then sync again")
	ErrFile      = errors.New("dropbox: file refused")
	ErrRetryFile = errors.New("dropbox: upload must be redone")
	ErrOther     = errors.New("dropbox: unexpected error")
	ErrRecommit  = errors.New("dropbox: commit must be redone")
	// ErrAccountRefused: Dropbox refuses this account as a whole; Error.UserMessage, when
	// set, says why in Dropbox's words.
	ErrAccountRefused = errors.New("Dropbox refuses this account for now")
	// ErrTokenSource: the connection's token could not be read from the keychain.
	ErrTokenSource = errors.New("the keychain could not be read to get the Dropbox connection's token: " +
		"check that the keychain is unlocked and that you are signed in to the desktop session")
)

var kindErr = map[Kind]error{
	KindTransient: ErrTransient, KindRateLimited: ErrRateLimited, KindWriteContention: ErrWriteContention,
	KindReconnect: ErrReconnect, KindNoSpace: ErrNoSpace, KindFile: ErrFile, KindRetryFile: ErrRetryFile, KindOther: ErrOther,
	KindRecommit: ErrRecommit, KindAccount: ErrAccountRefused, KindTokenSource: ErrTokenSource,
}

// Error is a translated Dropbox failure.
type Error struct {
	Kind Kind
	// Code is Dropbox's error tag path ("path/disallowed_name", "too_many_requests" ...) or a
	// short word for non-API failures ("network").
	Code string
	// RetryAfter is how long Dropbox asked us to wait (429s, a 503's Retry-After) or, for
	// KindRecommit, how long to leave the entry before committing it again.
	RetryAfter time.Duration
	// UserMessage is Dropbox's user_message text, meant to be shown to the user as is
	// (localized when Options.Locale is set); empty when Dropbox sent none.
	UserMessage string
	Err         error
}

func (e *Error) Error() string {
	if e.UserMessage != "" {
		return fmt.Sprintf("%s (%s): %s: %v", kindErr[e.Kind], e.Code, e.UserMessage, e.Err)
	}
	return fmt.Sprintf("%s (%s): %v", kindErr[e.Kind], e.Code, e.Err)
}

// Unwrap exposes both the Kind's sentinel and the underlying error.
func (e *Error) Unwrap() []error { return []error{kindErr[e.Kind], e.Err} }

// KindOf returns the Kind of a translated error, or 0 for anything else (including context
// cancellation).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// translate turns anything the SDK returns into an *Error, the one place where Dropbox's
// error types are interpreted. ex is what the transport saw of the attempt (nil when
// unknown): the SDK hides the status, Retry-After and user_message that some answers need.
// Context cancellation passes through unchanged.
func translate(err error, ex *exchange) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	status, retryAfter, body, sent, _ := ex.seen()
	wrap := func(k Kind, code string) *Error {
		return &Error{Kind: k, Code: code, UserMessage: userMessage(body), Err: err}
	}

	var rl auth.RateLimitAPIError
	if errors.As(err, &rl) {
		e := wrap(KindRateLimited, "too_many_requests")
		e.RetryAfter = max(time.Second, retryAfter)
		if rl.RateLimitError != nil {
			e.RetryAfter = max(e.RetryAfter, time.Duration(rl.RateLimitError.RetryAfter)*time.Second)
			if rl.RateLimitError.Reason != nil && rl.RateLimitError.Reason.Tag == auth.RateLimitReasonTooManyWriteOperations {
				e.Kind, e.Code = KindWriteContention, "too_many_write_operations"
			}
		}
		return e
	}
	if status == http.StatusTooManyRequests {
		// Dropbox's front end also sends 429 as plain text (or with no body) and only a
		// Retry-After header, which the SDK fails to decode. Dropbox's data-ingress guide
		// says to treat it as too_many_requests.
		e := wrap(KindRateLimited, "too_many_requests")
		e.RetryAfter = max(time.Second, retryAfter)
		return e
	}
	var ae auth.AuthAPIError
	if errors.As(err, &ae) {
		tag := ""
		if ae.AuthError != nil {
			tag = ae.AuthError.Tag
		}
		switch tag {
		case auth.AuthErrorExpiredAccessToken:
			// The token source refreshes ahead of expiry; an expired token here is clock skew
			// and the next attempt fetches a fresh one.
			return wrap(KindTransient, tag)
		case auth.AuthErrorUserSuspended, auth.AuthErrorRouteAccessDenied:
			// The token is good; the account (or its access to the route) is not.
			return wrap(KindAccount, tag)
		}
		return wrap(KindReconnect, tag)
	}
	var acc auth.AccessAPIError
	if errors.As(err, &acc) {
		// Every AccessError (invalid_account_type, team_access_denied, no_permission ...) is
		// about the account, not the call: retrying soon will not help.
		code := "access"
		if a := acc.AccessError; a != nil && a.Tag != "" {
			code = a.Tag
			if a.InvalidAccountType != nil && a.InvalidAccountType.Tag != "" {
				code += "/" + a.InvalidAccountType.Tag
			}
			if a.NoPermission != nil && a.NoPermission.Tag != "" {
				code += "/" + a.NoPermission.Tag
			}
		}
		return wrap(KindAccount, code)
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.ErrorCode == "invalid_grant" || re.ErrorCode == "invalid_client" {
			return wrap(KindReconnect, re.ErrorCode)
		}
		if re.Response != nil && re.Response.StatusCode >= 500 {
			return wrap(KindTransient, "token_endpoint")
		}
		return wrap(KindOther, "token_endpoint")
	}
	var se auth.ServerError
	if errors.As(err, &se) {
		e := wrap(KindTransient, "server_error")
		if status == http.StatusServiceUnavailable && retryAfter > 0 {
			e.Code, e.RetryAfter = "service_unavailable", retryAfter
		}
		return e
	}
	var br auth.BadRequest
	if errors.As(err, &br) {
		return wrap(badRequestKind(br.ErrorSummary))
	}
	if k, code, ok := routeErrorKind(err); ok {
		return wrap(k, code)
	}
	if errors.Is(err, ErrReconnect) { // e.g. the token source's refresh was refused
		return wrap(KindReconnect, "refresh_refused")
	}
	// The request never left because the token source failed (a keychain that cannot be
	// read, say), not the network: retrying as if offline would hide the real problem.
	// This comes before isNetwork, as a *url.Error is a net.Error whatever it wraps.
	var ue *url.Error
	if errors.Is(err, ErrTokenSource) || ex != nil && !sent && errors.As(err, &ue) && !isNetwork(ue.Err) {
		return wrap(KindTokenSource, "token_source")
	}
	if isNetwork(err) {
		return wrap(KindTransient, "network")
	}
	// A body cut short decodes as invalid JSON: the answer was lost in transit.
	if strings.Contains(err.Error(), "unexpected end of JSON input") || strings.Contains(err.Error(), "invalid character") {
		return wrap(KindTransient, "truncated")
	}
	return wrap(KindOther, "unknown")
}

// badRequestKind reads a 400. Dropbox's 400s name what was wrong with the argument; one
// about a path is caused by the file's path (too long, a pattern it does not match), and
// sending that file again will fail the same way. A front end's refusal of an over-long
// header line is told apart by its page. Anything else is a bug on our side.
func badRequestKind(text string) (Kind, string) {
	switch {
	case strings.Contains(text, "Request Header Or Cookie Too Large"):
		return KindOther, "header_too_large"
	case pathField.MatchString(text):
		return KindFile, "bad_request/path"
	}
	return KindOther, "bad_request"
}

// pathField finds the argument field a 400 blames when it is a path ("request body: path:
// ...", "commit.path: ... did not match pattern"); entryField the batch entry it is in.
var (
	pathField  = regexp.MustCompile(`(?:^|[\s.])path: `)
	entryField = regexp.MustCompile(`entries\.(\d+)\.[\w.]*path: `)
)

// refusedEntry reports which entry of a batch a 400 about a path blames.
func refusedEntry(err error) (int, bool) {
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindFile || e.Code != "bad_request/path" {
		return 0, false
	}
	var br auth.BadRequest
	if !errors.As(err, &br) {
		return 0, false
	}
	m := entryField.FindStringSubmatch(br.ErrorSummary)
	if m == nil {
		return 0, false
	}
	i, err := strconv.Atoi(m[1])
	return i, err == nil
}

// isNetwork reports a failure of the connection itself: dial, reset, timeout, a body
// cut short.
func isNetwork(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "connection refused")
}

// unknownTag is the Code prefix of an error tag this client does not know on an upload or
// a commit of one file: Dropbox refused that file for a reason the spec we were built
// against does not name, and resending it unchanged would most likely fail again.
const unknownTag = "unknown/"

// routeErrorKind reads the 409 errors of the routes we call.
func routeErrorKind(err error) (Kind, string, bool) {
	var (
		ab  files.UploadSessionAppendBatchAPIError
		up  files.UploadAPIError
		fin files.UploadSessionFinishAPIError
		app files.UploadSessionAppendV2APIError
		st  files.UploadSessionStartAPIError
		lf  files.ListFolderAPIError
		lfc files.ListFolderContinueAPIError
	)
	switch {
	case errors.As(err, &ab) && ab.EndpointError != nil:
		// append_batch's own 409s concern the whole request and change nothing: a body
		// corrupted in transit is worth resending; wrong lengths are a bug on our side.
		if ab.EndpointError.Tag == files.UploadSessionAppendBatchErrorContentHashMismatch {
			return KindTransient, ab.EndpointError.Tag, true
		}
		return KindOther, ab.EndpointError.Tag, true
	case errors.As(err, &up) && up.EndpointError != nil:
		e := up.EndpointError
		switch e.Tag {
		case files.UploadErrorPath:
			if e.Path != nil {
				k, code := writeErrorKind(e.Path.Reason)
				return k, "path/" + code, true
			}
			return KindFile, "path/" + unknownTag + "none", true
		case files.UploadErrorPayloadTooLarge:
			return KindRetryFile, e.Tag, true // send it through an upload session instead
		case files.UploadErrorContentHashMismatch:
			return KindRetryFile, e.Tag, true
		case files.UploadErrorEncryptionNotSupported, files.UploadErrorPropertiesError:
			return KindFile, e.Tag, true
		}
		return KindFile, unknownTag + e.Tag, true
	case errors.As(err, &fin) && fin.EndpointError != nil:
		k, code := finishErrorKind(fin.EndpointError)
		return k, code, true
	case errors.As(err, &app) && app.EndpointError != nil:
		// incorrect_offset is resolved by the SDK's uploader, which reads the correct offset
		// from the error; every other append failure means the session is unusable.
		if app.EndpointError.Tag == files.UploadSessionAppendErrorTooLarge {
			return KindFile, app.EndpointError.Tag, true
		}
		return KindRetryFile, app.EndpointError.Tag, true
	case errors.As(err, &st) && st.EndpointError != nil:
		return KindRetryFile, st.EndpointError.Tag, true
	case errors.As(err, &lf) && lf.EndpointError != nil:
		return KindOther, "path/" + tagOf(lf.EndpointError.Path), true
	case errors.As(err, &lfc) && lfc.EndpointError != nil:
		return KindOther, lfc.EndpointError.Tag, true
	}
	return 0, "", false
}

func tagOf(e *files.LookupError) string {
	if e == nil {
		return "other"
	}
	return e.Tag
}

// writeErrorKind maps a WriteError.
func writeErrorKind(w *files.WriteError) (Kind, string) {
	if w == nil {
		return KindFile, unknownTag + "none"
	}
	switch w.Tag {
	case files.WriteErrorInsufficientSpace, files.WriteErrorTeamFolderInsufficientSpace, files.WriteErrorMemberFolderInsufficientSpace:
		return KindNoSpace, w.Tag
	case files.WriteErrorTooManyWriteOperations:
		return KindWriteContention, w.Tag
	case files.WriteErrorUploadTrafficLimitReached:
		return KindAccount, w.Tag // the account's upload traffic, not this file
	case files.WriteErrorMalformedPath, files.WriteErrorDisallowedName, files.WriteErrorNoWritePermission,
		files.WriteErrorTeamFolder, files.WriteErrorOperationSuppressed, files.WriteErrorAccessRestricted:
		return KindFile, w.Tag
	case files.WriteErrorConflict:
		c := "conflict"
		if w.Conflict != nil {
			c += "/" + w.Conflict.Tag
		}
		return KindFile, c
	}
	return KindFile, unknownTag + w.Tag
}

// finishErrorKind maps an UploadSessionFinishError (finish and each finish_batch entry).
func finishErrorKind(e *files.UploadSessionFinishError) (Kind, string) {
	switch e.Tag {
	case files.UploadSessionFinishErrorPath:
		k, code := writeErrorKind(e.Path)
		return k, "path/" + code
	case files.UploadSessionFinishErrorTooManyWriteOperations:
		return KindWriteContention, e.Tag
	case files.UploadSessionFinishErrorLookupFailed:
		code := e.Tag
		if e.LookupFailed != nil {
			code += "/" + e.LookupFailed.Tag
		}
		return KindRetryFile, code
	case files.UploadSessionFinishErrorPayloadTooLarge, files.UploadSessionFinishErrorEncryptionNotSupported,
		files.UploadSessionFinishErrorPropertiesError, files.UploadSessionFinishErrorTooManySharedFolderTargets:
		return KindFile, e.Tag
	case files.UploadSessionFinishErrorContentHashMismatch, files.UploadSessionFinishErrorConcurrentSessionDataNotAllowed,
		files.UploadSessionFinishErrorConcurrentSessionNotClosed, files.UploadSessionFinishErrorConcurrentSessionMissingData:
		return KindRetryFile, e.Tag // the session cannot be committed as it is: upload again
	}
	return KindFile, unknownTag + e.Tag
}

// batchEntryKind maps a failed entry of finish_batch_v2. Under load Dropbox fails entries
// with too_many_write_operations, or internal_error (not in the spec's union; the SDK keeps
// the tag), before they write anything: the entry's session stays closed and committable,
// so the entry is recommitted, not uploaded again.
func batchEntryKind(e *files.UploadSessionFinishError) (Kind, string) {
	switch e.Tag {
	case files.UploadSessionFinishErrorTooManyWriteOperations, "internal_error":
		return KindRecommit, e.Tag
	case files.UploadSessionFinishErrorPath:
		if e.Path != nil && e.Path.Tag == files.WriteErrorTooManyWriteOperations {
			return KindRecommit, "path/" + e.Path.Tag
		}
	}
	return finishErrorKind(e)
}

// UserMessage is the message Dropbox gave for the user along with err, or "".
func UserMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.UserMessage
	}
	return ""
}
