package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/rest"
	"github.com/chatterly/chatterly/api/user"
	"github.com/valyala/fasthttp"
)

// sessionJSON answers register, login and refresh.
type sessionJSON struct {
	User  user.JSON `json:"user"`
	Token string    `json:"token"`
	// RefreshToken is left out for a browser of an allowed origin, which
	// gets it as an HttpOnly cookie instead (cookie.go).
	RefreshToken string `json:"refresh_token,omitempty"`
	// ExpiresAt is when Token expires: refresh a little before.
	ExpiresAt time.Time `json:"expires_at"`
}

// respondSession writes a new pair, the access token also in the
// Authorization response header; tokens are never cached by the browser.
// A browser of an allowed origin gets the refresh token as its cookie.
func (s *Service) respondSession(c *rest.Ctx, status int, u user.User, p pair) error {
	h := &c.RC.Response.Header
	h.Set("Authorization", "Bearer "+p.Access)
	h.Set("Cache-Control", "no-store")
	out := sessionJSON{User: user.RenderSelf(u), Token: p.Access, RefreshToken: p.Refresh, ExpiresAt: p.Claims.ExpiresAt.UTC()}
	if inBrowser(c) {
		c.SetCookie(refreshCookie, p.Refresh, refreshCookiePath, s.RefreshTTL)
		out.RefreshToken = ""
	}
	return c.JSON(status, out)
}

type registerRequest struct {
	Email       string `json:"email"`
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name"`
}

// register: POST /auth/register → 201 {user, token, refresh_token}.
// Everything that can be refused cheaply is (validation, the per-address
// limit, a taken name) before a password hash is spent.
func (s *Service) register(c *rest.Ctx) error {
	var req registerRequest
	if err := c.Decode(&req); err != nil {
		return err
	}
	ctx := c.Context()
	email := strings.TrimSpace(req.Email)
	if err := checkEmail(email); err != nil {
		return err
	}
	username, err := normalizeUsername(req.Username)
	if err != nil {
		return err
	}
	if err := checkPassword("password", req.Password); err != nil {
		return err
	}
	display, err := normalizeDisplayName(req.DisplayName, username)
	if err != nil {
		return err
	}
	if err := s.Limiter.Allow(ctx, s.Limits.registerAddr(), c.ClientAddr()); err != nil {
		return err
	}
	if f, err := s.st.taken(ctx, email, username); err != nil {
		return fault.Wrap(err, "register")
	} else if f != "" {
		return &fault.Error{Code: fault.AlreadyExists, Field: f, Message: "that " + f + " is already taken"}
	}
	hash, err := s.Hasher.Hash(ctx, req.Password)
	if err != nil {
		return err
	}
	now := s.Now()
	u := user.User{ID: s.IDs.Next(), Email: email, Username: username, DisplayName: display, CreatedAt: now}
	var p pair
	err = s.st.inTx(ctx, s.DB, func(tx store) error {
		if err := tx.insertUser(ctx, u, hash); err != nil {
			return err
		}
		p, err = s.startSession(ctx, tx, u.ID, now)
		return err
	})
	if err != nil {
		return asFault(err, "register")
	}
	return s.respondSession(c, fasthttp.StatusCreated, u, p)
}

type loginRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// errWrongCredentials is the one answer for an unknown login and a wrong
// password, so sign-in does not tell which accounts exist.
var errWrongCredentials = fault.New(fault.InvalidCredentials, "wrong login or password")

// login: POST /auth/login {login, password} → 200 {user, token,
// refresh_token}. Attempts are counted per client address before the
// account is looked up; wrong passwords per account and address, which is
// held off with a growing wait once it has failed too often (policy.go).
func (s *Service) login(c *rest.Ctx) error {
	var req loginRequest
	if err := c.Decode(&req); err != nil {
		return err
	}
	login := strings.TrimSpace(req.Login)
	switch {
	case login == "":
		return required("login")
	case req.Password == "":
		return required("password")
	case len(login) > maxLogin || len(req.Password) > maxPassword:
		return errWrongCredentials
	}
	if !loginKind(login) {
		login = strings.ToLower(login)
	}
	ctx := c.Context()
	if err := s.Limiter.Allow(ctx, s.Limits.loginAddr(), c.ClientAddr()); err != nil {
		return err
	}
	u, hash, err := s.st.userByLogin(ctx, login)
	if errors.Is(err, errNotFound) {
		// Unknown accounts are counted by the name tried, and cost a hash,
		// like a wrong password.
		subject := failureSubject("?"+strings.ToLower(login), c.ClientAddr())
		if err := s.Limiter.Hold(ctx, s.Limits.loginFailures(), subject, s.Now()); err != nil {
			return err
		}
		if err := s.Hasher.VerifyNobody(ctx, req.Password); err != nil {
			return err
		}
		if err := s.Limiter.Fail(ctx, s.Limits.loginFailures(), subject, s.Now()); err != nil {
			return err
		}
		return errWrongCredentials
	}
	if err != nil {
		return fault.Wrap(err, "login")
	}
	if err := s.checkPassword(ctx, failureSubject(u.ID.String(), c.ClientAddr()), req.Password, hash); err != nil {
		if errors.Is(err, errPasswordMismatch) {
			return errWrongCredentials
		}
		return err
	}
	now := s.Now()
	var p pair
	err = s.st.inTx(ctx, s.DB, func(tx store) error {
		p, err = s.startSession(ctx, tx, u.ID, now)
		return err
	})
	if err != nil {
		return asFault(err, "login")
	}
	return s.respondSession(c, fasthttp.StatusOK, u, p)
}

// errPasswordMismatch is a wrong password for a known account.
var errPasswordMismatch = errors.New("auth: password mismatch")

// failureSubject is what wrong passwords are counted against: the account
// (or the unknown name tried) from one client address.
func failureSubject(account, addr string) string { return account + "|" + addr }

// checkPassword verifies password against hash unless subject (an account
// from an address) is held off for failing; a mismatch is counted against
// subject, a success clears its count.
func (s *Service) checkPassword(ctx context.Context, subject, password, hash string) error {
	rule := s.Limits.loginFailures()
	if err := s.Limiter.Hold(ctx, rule, subject, s.Now()); err != nil {
		return err
	}
	ok, err := s.Hasher.Verify(ctx, password, hash)
	if _, isFault := fault.As(err); isFault {
		return err
	}
	if err != nil {
		return fault.Wrap(err, "verify password")
	}
	if !ok {
		if err := s.Limiter.Fail(ctx, rule, subject, s.Now()); err != nil {
			return err
		}
		return errPasswordMismatch
	}
	if err := s.Limiter.Forget(ctx, rule, subject); err != nil {
		s.Log.WarnContext(ctx, "could not reset the login failures", "err", err)
	}
	return nil
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// refresh: POST /auth/refresh {refresh_token} → 200 with a new pair. With
// an empty body the refresh token is the session cookie, accepted only
// from an allowed Origin.
func (s *Service) refresh(c *rest.Ctx) error {
	var raw string
	if len(c.RC.Request.Body()) == 0 {
		var err error
		if raw, err = refreshFromCookie(c); err != nil {
			return err
		}
	} else {
		var req refreshRequest
		if err := c.Decode(&req); err != nil {
			return err
		}
		if req.RefreshToken == "" {
			return required("refresh_token")
		}
		raw = req.RefreshToken
	}
	ctx := c.Context()
	p, err := s.exchange(ctx, raw)
	if err != nil {
		return err
	}
	u, err := s.st.userByID(ctx, p.Claims.UserID)
	if err != nil {
		return fault.Wrap(err, "refresh")
	}
	return s.respondSession(c, fasthttp.StatusOK, u, p)
}

// logout: DELETE /auth/logout → 204. The caller's session ends everywhere:
// refresh, every access token of it, every socket of it.
func (s *Service) logout(c *rest.Ctx) error {
	ctx := c.Context()
	ss, err := s.st.revokeSession(ctx, c.UserID(), c.Claims.SID, reasonLogout, s.Now())
	if errors.Is(err, errNotFound) {
		return fault.New(fault.Unauthorized, "no such session")
	}
	if err != nil {
		return fault.Wrap(err, "logout")
	}
	if err := s.announce(ctx, []session{ss}); err != nil {
		return err
	}
	clearRefreshCookie(c)
	return c.NoContent()
}

// logoutEverywhere: DELETE /auth/sessions → 204. Every session of the
// caller ends, this one included.
func (s *Service) logoutEverywhere(c *rest.Ctx) error {
	ctx := c.Context()
	ended, err := s.st.revokeSessions(ctx, c.UserID(), 0, reasonLogoutAll, s.Now())
	if err != nil {
		return fault.Wrap(err, "logout everywhere")
	}
	if err := s.announce(ctx, ended); err != nil {
		return err
	}
	clearRefreshCookie(c)
	return c.NoContent()
}

// me: GET /me → the caller, with their email.
func (s *Service) me(c *rest.Ctx) error {
	u, err := s.st.userByID(c.Context(), c.UserID())
	if errors.Is(err, errNotFound) {
		return fault.New(fault.Unauthorized, "the account no longer exists")
	}
	if err != nil {
		return fault.Wrap(err, "me")
	}
	return c.JSON(fasthttp.StatusOK, user.RenderSelf(u))
}

type passwordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword: PUT /me/password {current_password, new_password} → 204.
// Every other session of the caller ends; this one stays signed in. A wrong
// current password is a validation error (400), not a 401: the caller's
// token is fine, and a 401 would make a client sign out.
func (s *Service) changePassword(c *rest.Ctx) error {
	var req passwordRequest
	if err := c.Decode(&req); err != nil {
		return err
	}
	if req.CurrentPassword == "" {
		return required("current_password")
	}
	if err := checkPassword("new_password", req.NewPassword); err != nil {
		return err
	}
	ctx := c.Context()
	uid := c.UserID()
	old, err := s.st.passwordHash(ctx, uid)
	if err != nil {
		return asFault(err, "change password")
	}
	if err := s.checkPassword(ctx, failureSubject(uid.String(), c.ClientAddr()), req.CurrentPassword, old); err != nil {
		if errors.Is(err, errPasswordMismatch) {
			return fault.Invalid("current_password", "the current password is wrong")
		}
		return err
	}
	hash, err := s.Hasher.Hash(ctx, req.NewPassword)
	if err != nil {
		return err
	}
	now := s.Now()
	var ended []session
	err = s.st.inTx(ctx, s.DB, func(tx store) error {
		if err := tx.setPasswordHash(ctx, uid, hash, now); err != nil {
			return err
		}
		ended, err = tx.revokeSessions(ctx, uid, c.Claims.SID, reasonPasswordChange, now)
		return err
	})
	if err != nil {
		return fault.Wrap(err, "change password")
	}
	if err := s.announce(ctx, ended); err != nil {
		return err
	}
	return c.NoContent()
}

// asFault passes a fault through and wraps anything else as internal.
func asFault(err error, op string) error {
	if errors.Is(err, errNotFound) {
		return fault.New(fault.Unauthorized, "the account no longer exists")
	}
	if _, ok := fault.As(err); ok {
		return err
	}
	return fault.Wrap(err, op)
}
