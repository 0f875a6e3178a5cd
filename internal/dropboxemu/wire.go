package dropboxemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// timeFormat is the only timestamp format Dropbox reads or writes: UTC, whole seconds.
const timeFormat = "2006-01-02T15:04:05Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// reply is a handler's answer before it goes on the wire, so faults (dropped connections,
// truncated bodies, bandwidth caps) can be applied uniformly by ServeHTTP.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// jsonStatus answers status with v as exactly "application/json".
func jsonStatus(status int, v any) *reply {
	r := jsonReply(v)
	r.status = status
	return r
}

// jsonReply answers 200 with v as exactly "application/json" (clients compare the type).
func jsonReply(v any) *reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("dropboxemu: marshal reply: %v", err)) // a bug in the emulator
	}
	return &reply{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}, body: b}
}

// badRequest is Dropbox's 400: plain text naming the API function.
func badRequest(route, format string, args ...any) *reply {
	msg := fmt.Sprintf("Error in call to API function %q: %s", route, fmt.Sprintf(format, args...))
	return &reply{status: http.StatusBadRequest, header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, body: []byte(msg)}
}

// plainText is an answer in text/plain, as front ends and Dropbox's own 5xx send them.
func plainText(status int, body string) *reply {
	return &reply{status: status, header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, body: []byte(body)}
}

// nginxHeaderTooLarge is nginx's page for a request header line over its buffer
// (large_client_header_buffers), sent with status 400.
const nginxHeaderTooLarge = `<html>
<head><title>400 Request Header Or Cookie Too Large</title></head>
<body>
<center><h1>400 Bad Request</h1></center>
<center>Request Header Or Cookie Too Large</center>
<hr><center>nginx</center>
</body>
</html>
`

// headerTooLarge is the front end's answer to an over-long Dropbox-API-Arg: not Dropbox's
// plain-text 400, but the proxy's HTML one, which the SDK still reports as auth.BadRequest.
func headerTooLarge() *reply {
	return &reply{status: http.StatusBadRequest, header: http.Header{"Content-Type": {"text/html"}}, body: []byte(nginxHeaderTooLarge)}
}

// apiError builds a JSON error reply ({"error_summary", "error"}) with the given status. The
// summary is derived from the error value the way Dropbox does it: the chain of tags, then
// trailing dots.
func apiError(status int, e map[string]any) *reply {
	r := jsonReply(map[string]any{"error_summary": summarize(e) + "/...", "error": e})
	r.status = status
	return r
}

// routeError is the 409 every route uses for its own error union.
func routeError(e map[string]any) *reply { return apiError(http.StatusConflict, e) }

// authError is a 401 with an AuthError union (expired_access_token, invalid_access_token,
// missing_scope ...).
func authError(e map[string]any) *reply { return apiError(http.StatusUnauthorized, e) }

// rateLimited is a 429 with the RateLimitError struct and a Retry-After header.
func rateLimited(reason string, retryAfter int) *reply {
	if retryAfter < 1 {
		retryAfter = 1
	}
	e := map[string]any{"reason": void(reason), "retry_after": retryAfter}
	r := jsonReply(map[string]any{"error_summary": reason + "/...", "error": e})
	r.status = http.StatusTooManyRequests
	r.header.Set("Retry-After", strconv.Itoa(retryAfter))
	return r
}

// void is a union member without a value: {".tag": tag}.
func void(tag string) map[string]any { return map[string]any{".tag": tag} }

// nested is a union member whose value is itself a union or primitive: it sits under a key
// named after the tag.
func nested(tag string, v any) map[string]any { return map[string]any{".tag": tag, tag: v} }

// flat is a union member whose value is a struct: its fields are flattened beside ".tag".
func flat(tag string, fields map[string]any) map[string]any {
	m := map[string]any{".tag": tag}
	for k, v := range fields {
		m[k] = v
	}
	return m
}

// summarize follows the tags of a union value: nested members first, then struct fields that
// are unions themselves (an UploadWriteFailed's "reason"), giving e.g. "path/conflict/file".
func summarize(e map[string]any) string {
	tag, _ := e[".tag"].(string)
	if tag == "" {
		return "other"
	}
	if inner, ok := e[tag].(map[string]any); ok {
		return tag + "/" + summarize(inner)
	}
	for k, v := range e {
		if inner, ok := v.(map[string]any); ok && k != ".tag" {
			if _, tagged := inner[".tag"]; tagged {
				return tag + "/" + summarize(inner)
			}
		}
	}
	return tag
}

// union decodes a union argument in both encodings Dropbox accepts: "tag" or {".tag": "tag",
// ...}. The raw object is kept for members that carry a value.
type union struct {
	Tag string
	Raw json.RawMessage
}

func (u *union) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &u.Tag)
	}
	var t struct {
		Tag *string `json:".tag"`
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	if t.Tag == nil {
		return fmt.Errorf("missing '.tag' key")
	}
	u.Tag = *t.Tag
	u.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// member decodes the value of a nested member ({".tag": "update", "update": "0123abc"}).
func (u union) member(v any) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(u.Raw, &m); err != nil {
		return err
	}
	raw, ok := m[u.Tag]
	if !ok {
		return fmt.Errorf("%s: missing value", u.Tag)
	}
	return json.Unmarshal(raw, v)
}

// decodeArg parses a route argument. Dropbox rejects malformed JSON and wrong types with a
// 400 naming where the argument came from. Unknown fields are tolerated unless the
// StrictArgs switch is on, when they are the 400 Dropbox gives them; the argument structs
// therefore name every field of the spec the SDK may send, used or not.
func (c *call) decodeArg(where string, raw []byte, v any) *reply {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		raw = []byte("null")
	}
	err := json.Unmarshal(raw, v)
	if err == nil && c.faults.StrictArgs {
		// A second pass only to find unknown fields: Unmarshal alone sets the rules for
		// what is valid JSON, trailing data included.
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		err = dec.Decode(v)
	}
	if err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return badRequest(c.route, "%s: %s: expected %s, got %s", where, te.Field, te.Type, te.Value)
		}
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return badRequest(c.route, "%s: unknown field %s", where, field)
		}
		return badRequest(c.route, "%s: could not decode input as JSON", where)
	}
	return nil
}

// headerSafeJSON escapes every non-ASCII rune as \uXXXX (UTF-16 surrogates for runes outside
// the BMP) so JSON fits an HTTP header, as Dropbox does for Dropbox-API-Result.
func headerSafeJSON(b []byte) string {
	var s strings.Builder
	for _, r := range string(b) {
		switch {
		case r < 0x7f:
			s.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(&s, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			fmt.Fprintf(&s, `\u%04x`, r)
		}
	}
	return s.String()
}
