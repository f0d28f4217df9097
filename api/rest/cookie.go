package rest

import (
	"bytes"
	"time"

	"github.com/valyala/fasthttp"
)

// Cookies of the api are session cookies for the browser client only:
// HttpOnly (no script reads them), SameSite=Strict (no other site's page
// sends them), scoped to a path, and Secure whenever the request reached us
// over https.

// Secure reports whether the client reached the api over https: the
// connection itself is TLS, or the first X-Forwarded-Proto (set by the
// TLS-terminating proxy in front of the api) says https. The header is
// trusted without a proxy list because all it can do is add Secure to a
// cookie: a forged "https" makes the forger's own cookie stricter, never
// weaker. A proxy that terminates TLS must send the header.
func (c *Ctx) Secure() bool {
	if c.RC.IsTLS() {
		return true
	}
	p := c.RC.Request.Header.Peek("X-Forwarded-Proto")
	if i := bytes.IndexByte(p, ','); i >= 0 {
		p = p[:i]
	}
	return bytes.EqualFold(bytes.TrimSpace(p), []byte("https"))
}

// Cookie returns the request's cookie name ("" when absent), copied.
func (c *Ctx) Cookie(name string) string {
	return string(c.RC.Request.Header.Cookie(name))
}

// SetCookie sets cookie name to value on path for maxAge.
func (c *Ctx) SetCookie(name, value, path string, maxAge time.Duration) {
	c.setCookie(name, value, path, int(maxAge/time.Second))
}

// ClearCookie tells the browser to drop cookie name on path.
func (c *Ctx) ClearCookie(name, path string) {
	c.setCookie(name, "", path, -1)
}

// setCookie writes a Set-Cookie; maxAge < 0 expires it at once.
func (c *Ctx) setCookie(name, value, path string, maxAge int) {
	ck := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(ck)
	ck.SetKey(name)
	ck.SetValue(value)
	ck.SetPath(path)
	ck.SetHTTPOnly(true)
	ck.SetSameSite(fasthttp.CookieSameSiteStrictMode)
	ck.SetSecure(c.Secure())
	if maxAge < 0 {
		ck.SetExpire(fasthttp.CookieExpireDelete)
	} else {
		ck.SetMaxAge(maxAge)
	}
	c.RC.Response.Header.SetCookie(ck)
}
