// Package fault is the api's error vocabulary: every error a client can see
// carries a stable, machine-readable code. Domain packages return *Error (or
// wrap one with %w); the rest package's one table maps codes to HTTP status
// and renders RFC 9457 problem+json.
package fault

import (
	"errors"
	"fmt"
	"time"
)

// Code is a stable problem code. Clients switch on it; never rename one.
type Code string

// The codes. Their HTTP statuses live in rest's table.
const (
	BadRequest           Code = "bad_request"       // malformed JSON, wrong types, unknown fields
	Validation           Code = "validation_failed" // a field's value is not acceptable
	UnsupportedMediaType Code = "unsupported_media_type"
	PayloadTooLarge      Code = "payload_too_large"
	Unauthorized         Code = "unauthorized"
	TokenExpired         Code = "token_expired"
	InvalidCredentials   Code = "invalid_credentials"
	Forbidden            Code = "forbidden"
	NotFound             Code = "not_found"
	MethodNotAllowed     Code = "method_not_allowed"
	Conflict             Code = "conflict"
	AlreadyExists        Code = "already_exists"
	Busy                 Code = "busy"
	InvalidTransition    Code = "invalid_transition"
	TooManyReactions     Code = "too_many_reactions"    // a message's or a user's reaction cap
	ConversationArchived Code = "conversation_archived" // a write to an archived conversation
	RefreshReused        Code = "refresh_token_reused"
	ResyncRequired       Code = "resync_required"
	RateLimited          Code = "rate_limited"
	Unavailable          Code = "unavailable"
	Internal             Code = "internal"
)

// Error is an error with a code, a human message, and optional detail.
type Error struct {
	Code    Code
	Message string
	// Field names the request field at fault, if one is.
	Field string
	// RetryAfter is set on rate_limited errors.
	RetryAfter time.Duration
	// Extra members rendered into the problem document (e.g. "call_status"
	// for a call's invalid_transition). Never "status": RFC 9457 keeps it
	// for the HTTP status, and an Extra member would overwrite it.
	Extra map[string]any
	// Err is the cause, logged but never shown to clients.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return string(e.Code) + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches another *Error with the same code, so sentinels work with
// errors.Is.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// New returns an error with code and message.
func New(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// Newf is New with formatting.
func Newf(code Code, format string, a ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, a...)}
}

// Invalid is a validation error about field.
func Invalid(field, msg string) *Error {
	return &Error{Code: Validation, Message: msg, Field: field}
}

// Wrap returns an internal error hiding cause from clients.
func Wrap(cause error, msg string) *Error {
	return &Error{Code: Internal, Message: msg, Err: cause}
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
