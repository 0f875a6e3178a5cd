package dropbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
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
	// KindTransient: a 5xx, a dropped connection, no network. Retry with backoff.
	KindTransient Kind = iota + 1
	// KindRateLimited: 429 too_many_requests. Retry after RetryAfter.
	KindRateLimited
	// KindWriteContention: 429 too_many_write_operations, commits overlapped on the account.
	// Retry after RetryAfter, and commit less often.
	KindWriteContention
	// KindReconnect: the token was revoked or refresh was refused. Stop the connection until
	// the user connects it again; keep the queue.
	KindReconnect
	// KindNoSpace: the account is full. Pause the connection and retry later.
	KindNoSpace
	// KindFile: this file cannot be stored as asked (disallowed name, too large, conflict
	// with a folder). Record it and retry only when the file changes.
	KindFile
	// KindRetryFile: this file's upload must be redone from the start (content hash
	// mismatch, expired or unknown session).
	KindRetryFile
	// KindOther: anything else (a 400 means a bug on our side). Logged, retried later.
	KindOther
)

// Sentinel errors for errors.Is; every *Error matches the one of its Kind.
var (
	ErrTransient       = errors.New("dropbox: temporary failure")
	ErrRateLimited     = errors.New("dropbox: rate limited")
	ErrWriteContention = errors.New("dropbox: too many write operations")
	ErrReconnect       = errors.New("dropbox: access revoked or expired, connect again")
	ErrNoSpace         = errors.New("dropbox: insufficient space")
	ErrFile            = errors.New("dropbox: file refused")
	ErrRetryFile       = errors.New("dropbox: upload must be redone")
	ErrOther           = errors.New("dropbox: unexpected error")
)

var kindErr = map[Kind]error{
	KindTransient: ErrTransient, KindRateLimited: ErrRateLimited, KindWriteContention: ErrWriteContention,
	KindReconnect: ErrReconnect, KindNoSpace: ErrNoSpace, KindFile: ErrFile, KindRetryFile: ErrRetryFile, KindOther: ErrOther,
}

// Error is a translated Dropbox failure.
type Error struct {
	Kind Kind
	// Code is Dropbox's error tag path ("path/disallowed_name", "too_many_requests" ...) or a
	// short word for non-API failures ("network").
	Code string
	// RetryAfter is how long Dropbox asked us to wait (429s).
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
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
// error types are interpreted. Context cancellation passes through unchanged.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	wrap := func(k Kind, code string) error { return &Error{Kind: k, Code: code, Err: err} }

	var rl auth.RateLimitAPIError
	if errors.As(err, &rl) {
		e := &Error{Kind: KindRateLimited, Code: "too_many_requests", RetryAfter: time.Second, Err: err}
		if rl.RateLimitError != nil {
			e.RetryAfter = time.Duration(max(rl.RateLimitError.RetryAfter, 1)) * time.Second
			if rl.RateLimitError.Reason != nil && rl.RateLimitError.Reason.Tag == auth.RateLimitReasonTooManyWriteOperations {
				e.Kind, e.Code = KindWriteContention, "too_many_write_operations"
			}
		}
		return e
	}
	var ae auth.AuthAPIError
	if errors.As(err, &ae) {
		tag := ""
		if ae.AuthError != nil {
			tag = ae.AuthError.Tag
		}
		if tag == auth.AuthErrorExpiredAccessToken {
			// The token source refreshes ahead of expiry; an expired token here is clock skew
			// and the next attempt fetches a fresh one.
			return wrap(KindTransient, tag)
		}
		return wrap(KindReconnect, tag)
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
		return wrap(KindTransient, "server_error")
	}
	var br auth.BadRequest
	if errors.As(err, &br) {
		return wrap(KindOther, "bad_request")
	}
	if k, code, ok := routeErrorKind(err); ok {
		return wrap(k, code)
	}
	if errors.Is(err, ErrReconnect) { // e.g. the token source's refresh was refused
		return wrap(KindReconnect, "refresh_refused")
	}
	if isNetwork(err) {
		return wrap(KindTransient, "network")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// The request never left: the token source failed (a keychain that cannot be
		// read, say). Retrying as if offline would hide the real problem.
		return wrap(KindOther, "token_source")
	}
	// A body cut short decodes as invalid JSON: the answer was lost in transit.
	if strings.Contains(err.Error(), "unexpected end of JSON input") || strings.Contains(err.Error(), "invalid character") {
		return wrap(KindTransient, "truncated")
	}
	return wrap(KindOther, "unknown")
}

// isNetwork reports a failure of the connection itself: dial, reset, timeout, a body
// cut short.
func isNetwork(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "connection refused")
}

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
		case files.UploadErrorPayloadTooLarge:
			return KindRetryFile, e.Tag, true // send it through an upload session instead
		case files.UploadErrorContentHashMismatch:
			return KindRetryFile, e.Tag, true
		}
		return KindOther, e.Tag, true
	case errors.As(err, &fin) && fin.EndpointError != nil:
		k, code := finishErrorKind(fin.EndpointError)
		return k, code, true
	case errors.As(err, &app) && app.EndpointError != nil:
		// incorrect_offset is resolved by the SDK's uploader, which reads the correct offset
		// from the error; every other append failure means the session is unusable.
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
		return KindOther, "other"
	}
	switch w.Tag {
	case files.WriteErrorInsufficientSpace:
		return KindNoSpace, w.Tag
	case files.WriteErrorTooManyWriteOperations:
		return KindWriteContention, w.Tag
	case files.WriteErrorMalformedPath, files.WriteErrorDisallowedName, files.WriteErrorNoWritePermission,
		files.WriteErrorTeamFolder, files.WriteErrorOperationSuppressed:
		return KindFile, w.Tag
	case files.WriteErrorConflict:
		c := "conflict"
		if w.Conflict != nil {
			c += "/" + w.Conflict.Tag
		}
		return KindFile, c
	}
	return KindOther, w.Tag
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
	case files.UploadSessionFinishErrorPayloadTooLarge:
		return KindFile, e.Tag
	}
	return KindRetryFile, e.Tag
}
