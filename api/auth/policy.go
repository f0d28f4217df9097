package auth

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/ratelimit"
)

// Input rules. They are the contract the web client's forms mirror.
const (
	minUsername    = 3
	maxUsername    = 32
	minPassword    = 8   // characters
	maxPassword    = 256 // bytes: bounds the work a hash is given
	maxEmail       = 254 // RFC 5321's path limit
	maxEmailLocal  = 64
	maxDisplayName = 64 // characters
	// maxLogin bounds a login field (an email or a username) before any
	// lookup is made with it.
	maxLogin = maxEmail
)

// required is the error for a required field that is missing or empty:
// 400, like every other malformed request.
func required(field string) error {
	return fault.Invalid(field, field+" is required")
}

// checkEmail accepts the shape local@domain.tld: no spaces or control
// characters, one @, a dotted domain with no empty label. Whether the
// mailbox exists is not the server's to know.
func checkEmail(s string) error {
	if s == "" {
		return required("email")
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:max(at, 0)], s[at+1:]
	ok := len(s) <= maxEmail && at > 0 && len(local) <= maxEmailLocal &&
		!strings.ContainsRune(local, '@') && strings.Contains(domain, ".")
	for _, label := range strings.Split(domain, ".") {
		ok = ok && label != "" && !strings.HasPrefix(label, "-") && !strings.HasSuffix(label, "-")
	}
	for _, r := range s {
		ok = ok && r > ' ' && r != 0x7f && !unicode.IsSpace(r) && r != utf8.RuneError
	}
	if !ok {
		return fault.Invalid("email", "email must look like name@example.com")
	}
	return nil
}

// normalizeUsername lowercases s and checks it is 3 to 32 of [a-z0-9_.].
// Usernames are case-insensitive: "Ada" and "ada" are one name.
func normalizeUsername(s string) (string, error) {
	if s == "" {
		return "", required("username")
	}
	s = strings.ToLower(s)
	if len(s) < minUsername || len(s) > maxUsername {
		return "", fault.Invalid("username", "username must be 3 to 32 characters")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return "", fault.Invalid("username", "username may contain only letters a-z, digits, _ and .")
		}
	}
	return s, nil
}

// checkPassword: at least 8 characters, at most 256 bytes.
func checkPassword(field, s string) error {
	switch {
	case s == "":
		return required(field)
	case utf8.RuneCountInString(s) < minPassword:
		return fault.Invalid(field, field+" must be at least 8 characters")
	case len(s) > maxPassword:
		return fault.Invalid(field, field+" must be at most 256 bytes")
	}
	return nil
}

// normalizeDisplayName trims s; empty becomes fallback (the username).
func normalizeDisplayName(s, fallback string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return fallback, nil
	}
	if utf8.RuneCountInString(s) > maxDisplayName || !utf8.ValidString(s) {
		return "", fault.Invalid("display_name", "display_name must be at most 64 characters")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", fault.Invalid("display_name", "display_name may not contain control characters")
		}
	}
	return s, nil
}

// loginKind tells an email login from a username login: only emails hold @.
func loginKind(login string) (isEmail bool) { return strings.Contains(login, "@") }

// Limits are the limits of authentication. Their defaults
// (server.AuthConfig) let a person use the product normally.
//
// Wrong passwords are counted per account and client address together, so
// that a stranger failing on an account holds off only their own address:
// the owner, signing in from an address that has not been failing, gets
// through (a per-account count would let anyone lock anyone out). The
// per-address limit bounds what one address may try across accounts.
type Limits struct {
	// LoginFailures is how a pair (account, address) that keeps giving
	// wrong passwords is held off: free failures, then a doubling wait.
	LoginFailures ratelimit.Backoff
	// LoginPerAddr counts sign-in attempts from one client address per
	// minute, whatever account they name.
	LoginPerAddr int
	// RegisterPerAddr counts registrations from one client address per
	// minute.
	RegisterPerAddr int
}

// The names are part of their Redis keys (rkey.RateLimit).
func (l Limits) loginFailures() ratelimit.Backoff {
	b := l.LoginFailures
	b.Name = "login_failures"
	return b
}

func (l Limits) loginAddr() ratelimit.Rule {
	return ratelimit.Rule{Name: "login_addr", Max: l.LoginPerAddr, Window: time.Minute}
}

func (l Limits) registerAddr() ratelimit.Rule {
	return ratelimit.Rule{Name: "register_addr", Max: l.RegisterPerAddr, Window: time.Minute}
}
