package auth

import (
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/rest"
)

// Sessions in the browser. A request that carries an allowed Origin
// (ALLOWED_ORIGINS) comes from a page of our web client: register, login
// and refresh then set the refresh token as the cookie below and leave it
// out of the JSON, so no script of the page can read it; the page keeps
// only the access token, in memory, and a reload gets a new one by POST
// /auth/refresh with an empty body, which reads the cookie. Every other
// client keeps the refresh token from the JSON and sends it back in the
// body, as before.
//
// The cookie is HttpOnly, SameSite=Strict, Path=/auth (only the auth
// routes ever see it) and Secure whenever the api was reached over https
// (rest.Ctx.Secure). Its lifetime is the session's (REFRESH_TOKEN_TTL).

// refreshCookie is the refresh token's cookie.
const (
	refreshCookie     = "chatterly_refresh"
	refreshCookiePath = "/auth"
)

// errForeignOrigin refuses a cookie refresh that no allowed page sent: the
// cookie alone would let any site's form spend it (CSRF).
var errForeignOrigin = fault.New(fault.Forbidden,
	"a refresh from the session cookie needs an allowed Origin; other clients send {refresh_token}")

// errNoCookie is a cookie refresh without the cookie: sign in again.
var errNoCookie = fault.New(fault.Unauthorized, "no session cookie; sign in again")

// inBrowser reports whether the request came from a page of an allowed
// origin, whose refresh token travels as the cookie.
func inBrowser(c *rest.Ctx) bool { return c.AllowedOrigin() != "" }

// refreshFromCookie is the refresh token of a request with an empty body.
func refreshFromCookie(c *rest.Ctx) (string, error) {
	if !inBrowser(c) {
		return "", errForeignOrigin
	}
	raw := c.Cookie(refreshCookie)
	if raw == "" {
		return "", errNoCookie
	}
	return raw, nil
}

// clearRefreshCookie drops the cookie (logout); harmless for a client
// that never had it.
func clearRefreshCookie(c *rest.Ctx) { c.ClearCookie(refreshCookie, refreshCookiePath) }
