package rest

import (
	"encoding/json"
	"strconv"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/valyala/fasthttp"
)

// statusOf is the one table from problem code to HTTP status.
var statusOf = map[fault.Code]int{
	fault.BadRequest:           fasthttp.StatusBadRequest,
	fault.Validation:           fasthttp.StatusBadRequest,
	fault.UnsupportedMediaType: fasthttp.StatusUnsupportedMediaType,
	fault.PayloadTooLarge:      fasthttp.StatusRequestEntityTooLarge,
	fault.Unauthorized:         fasthttp.StatusUnauthorized,
	fault.TokenExpired:         fasthttp.StatusUnauthorized,
	fault.InvalidCredentials:   fasthttp.StatusUnauthorized,
	fault.RefreshReused:        fasthttp.StatusUnauthorized,
	fault.Forbidden:            fasthttp.StatusForbidden,
	fault.NotFound:             fasthttp.StatusNotFound,
	fault.MethodNotAllowed:     fasthttp.StatusMethodNotAllowed,
	fault.Conflict:             fasthttp.StatusConflict,
	fault.AlreadyExists:        fasthttp.StatusConflict,
	fault.Busy:                 fasthttp.StatusConflict,
	fault.InvalidTransition:    fasthttp.StatusConflict,
	fault.TooManyReactions:     fasthttp.StatusConflict,
	fault.ConversationArchived: fasthttp.StatusConflict,
	fault.ResyncRequired:       fasthttp.StatusGone,
	fault.RateLimited:          fasthttp.StatusTooManyRequests,
	fault.Unavailable:          fasthttp.StatusServiceUnavailable,
	fault.Internal:             fasthttp.StatusInternalServerError,
}

// Status returns the HTTP status for a problem code (500 for an unknown one).
func Status(c fault.Code) int {
	if s, ok := statusOf[c]; ok {
		return s
	}
	return fasthttp.StatusInternalServerError
}

// writeProblem renders e as RFC 9457 application/problem+json.
func writeProblem(rc *fasthttp.RequestCtx, e *fault.Error, requestID string) {
	status := Status(e.Code)
	doc := map[string]any{
		"type":   "https://chatterly.dev/problems/" + string(e.Code),
		"title":  fasthttp.StatusMessage(status),
		"status": status,
		"code":   e.Code,
		"detail": e.Message,
	}
	if e.Code == fault.Internal {
		doc["detail"] = "internal error"
	}
	if e.Field != "" {
		doc["field"] = e.Field
	}
	if requestID != "" {
		doc["request_id"] = requestID
	}
	for k, v := range e.Extra {
		doc[k] = v
	}
	if e.RetryAfter > 0 {
		secs := int(e.RetryAfter.Seconds() + 0.999)
		rc.Response.Header.Set("Retry-After", strconv.Itoa(secs))
		doc["retry_after"] = secs
	}
	b, _ := json.Marshal(doc)
	rc.Response.ResetBody()
	rc.SetStatusCode(status)
	rc.SetContentType("application/problem+json")
	rc.SetBody(b)
}
