// Package config reads process configuration from environment variables.
//
// Every variable has a local default so `make run` works with nothing set.
// A value that is present but invalid is an error naming the variable: a
// process must refuse to start rather than run with a setting it misread.
package config

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Env reads typed values and collects every problem, so one start-up reports
// all bad variables at once. Lookup defaults to os.LookupEnv; tests replace it.
type Env struct {
	Lookup func(string) (string, bool)
	errs   []error
	// read lists every variable read, with the value in effect, for
	// print-config (Settings, Print).
	read []Setting
}

// Setting is one variable a loader read and the value in effect: the
// environment's, or the default.
type Setting struct {
	Name  string
	Value string
	// Secret values are masked when printed; so are the passwords
	// inside URLs.
	Secret bool
}

// FromOS returns an Env reading the process environment.
func FromOS() *Env { return &Env{Lookup: os.LookupEnv} }

// FromMap returns an Env reading m, for tests.
func FromMap(m map[string]string) *Env {
	return &Env{Lookup: func(k string) (string, bool) { v, ok := m[k]; return v, ok }}
}

func (e *Env) raw(name string) (string, bool) {
	v, ok := e.Lookup(name)
	if !ok || strings.TrimSpace(v) == "" {
		return "", false
	}
	return strings.TrimSpace(v), true
}

func (e *Env) fail(name, v, want string) {
	e.errs = append(e.errs, fmt.Errorf("%s=%q: %s", name, v, want))
}

// String returns the variable or def.
func (e *Env) String(name, def string) string {
	v, ok := e.raw(name)
	if !ok {
		v = def
	}
	e.note(name, v, false)
	return v
}

// Secret is String for a value that must never be printed (TURN_SECRET):
// print-config masks it.
func (e *Env) Secret(name, def string) string {
	v, ok := e.raw(name)
	if !ok {
		v = def
	}
	e.note(name, v, true)
	return v
}

// Int returns the variable as an integer within [lo, hi], or def.
func (e *Env) Int(name string, def, lo, hi int) int {
	n := def
	if v, ok := e.raw(name); ok {
		if p, err := strconv.Atoi(v); err != nil || p < lo || p > hi {
			e.fail(name, v, fmt.Sprintf("want a whole number from %d to %d", lo, hi))
		} else {
			n = p
		}
	}
	e.note(name, strconv.Itoa(n), false)
	return n
}

// Duration returns the variable as a Go duration ("15m", "30s") within
// [lo, hi], or def.
func (e *Env) Duration(name string, def, lo, hi time.Duration) time.Duration {
	d := def
	if v, ok := e.raw(name); ok {
		if p, err := time.ParseDuration(v); err != nil || p < lo || p > hi {
			e.fail(name, v, fmt.Sprintf("want a duration such as 30s or 15m, from %s to %s", lo, hi))
		} else {
			d = p
		}
	}
	e.note(name, d.String(), false)
	return d
}

// Bool returns the variable as a boolean (1/0, true/false), or def.
func (e *Env) Bool(name string, def bool) bool {
	b := def
	if v, ok := e.raw(name); ok {
		if p, err := strconv.ParseBool(v); err != nil {
			e.fail(name, v, "want 1, 0, true or false")
		} else {
			b = p
		}
	}
	e.note(name, strconv.FormatBool(b), false)
	return b
}

// URL returns the variable, which must parse as a URL with one of schemes.
func (e *Env) URL(name, def string, schemes ...string) string {
	v := e.url(name, def, schemes)
	e.note(name, v, false)
	return v
}

func (e *Env) url(name, def string, schemes []string) string {
	v, ok := e.raw(name)
	if !ok {
		return def
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" && u.Path == "" {
		e.fail(name, redact(v), "want a URL")
		return def
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return v
		}
	}
	e.fail(name, redact(v), "want a URL with scheme "+strings.Join(schemes, " or "))
	return def
}

// Addr returns the variable as a host:port listen address.
func (e *Env) Addr(name, def string) string {
	v := e.addr(name, def)
	e.note(name, v, false)
	return v
}

func (e *Env) addr(name, def string) string {
	v, ok := e.raw(name)
	if !ok {
		return def
	}
	i := strings.LastIndexByte(v, ':')
	if i < 0 {
		e.fail(name, v, "want host:port")
		return def
	}
	if p, err := strconv.Atoi(v[i+1:]); err != nil || p < 0 || p > 65535 {
		e.fail(name, v, "want host:port with a port from 0 to 65535")
		return def
	}
	return v
}

// List returns the comma-separated variable, blanks dropped, or def.
func (e *Env) List(name string, def []string) []string {
	out := def
	if v, ok := e.raw(name); ok {
		out = nil
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	e.note(name, strings.Join(out, ","), false)
	return out
}

// Check records a problem with a value the caller validated itself.
func (e *Env) Check(ok bool, name, value, want string) {
	if !ok {
		e.fail(name, value, want)
	}
}

// Err returns every problem found, or nil.
func (e *Env) Err() error {
	if len(e.errs) == 0 {
		return nil
	}
	return fmt.Errorf("configuration: %w", errors.Join(e.errs...))
}

func (e *Env) note(name, value string, secret bool) {
	for _, s := range e.read {
		if s.Name == name {
			return
		}
	}
	e.read = append(e.read, Setting{Name: name, Value: value, Secret: secret})
}

// Settings returns every variable read so far, each once, in the order
// first read.
func (e *Env) Settings() []Setting { return append([]Setting(nil), e.read...) }

// Print writes the variables read so far as NAME=value lines (a shell's
// or an env file's form), each value as the process uses it: a secret
// set is "(masked)", a password inside a URL "xxxxx". print-config runs
// a process's loader on the environment and prints this.
func (e *Env) Print(w io.Writer) error {
	for _, s := range e.read {
		v := redact(s.Value)
		if s.Secret && s.Value != "" {
			v = "(masked)"
		}
		if _, err := fmt.Fprintf(w, "%s=%s\n", s.Name, v); err != nil {
			return err
		}
	}
	return nil
}

// redact hides a password inside a URL so errors can be printed.
func redact(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return v
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
