package hub

import "sync"

// Ident is an interned subscription identifier: the client's identifier
// string literal, quotes and escapes included. Every subscription with the
// same literal shares one Ident, so a topic's frames are encoded once per
// distinct literal and sockets hold a pointer, not a copy.
type Ident struct {
	Raw  []byte
	key  string
	refs int // guarded by Interner.mu
}

// Interner is the process-wide identifier table. Subscribing and
// unsubscribing take its lock; delivery never does.
type Interner struct {
	mu sync.Mutex
	m  map[string]*Ident
}

// Intern returns the Ident for raw, creating it on first use, and takes a
// reference the caller gives back with Release.
func (in *Interner) Intern(raw []byte) *Ident {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.m == nil {
		in.m = make(map[string]*Ident)
	}
	if id, ok := in.m[string(raw)]; ok {
		id.refs++
		return id
	}
	key := string(raw)
	id := &Ident{Raw: []byte(key), key: key, refs: 1}
	in.m[key] = id
	return id
}

// Release gives back a reference; the last one forgets the Ident.
func (in *Interner) Release(id *Ident) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if id.refs--; id.refs <= 0 {
		delete(in.m, id.key)
	}
}

// Len is the number of distinct identifiers in use.
func (in *Interner) Len() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.m)
}
