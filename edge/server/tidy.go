package server

import (
	"runtime/debug"
	"time"
)

// A burst of handshakes leaves garbage (token parsing, HTTP heads, Redis
// replies) that the heap grows for and then keeps: Go returns freed pages
// to the OS only slowly. Once a burst of at least tidyAfter handshakes has
// been followed by tidyQuiet without one, the edge collects and returns
// the free memory at once, so its resident size follows its live sockets.
// It costs one GC per burst, at a quiet moment.
const (
	tidyAfter = 1000
	tidyQuiet = 2 * time.Second
)

// tidier counts handshakes; only the ticker goroutine reads it.
type tidier struct {
	seen, done int64
	last       time.Time
}

// check runs the collection when a burst has ended. hs is the number of
// handshakes so far.
func (t *tidier) check(hs int64, now time.Time) bool {
	if hs != t.seen {
		t.seen, t.last = hs, now
		return false
	}
	if hs-t.done < tidyAfter || now.Sub(t.last) < tidyQuiet {
		return false
	}
	t.done = hs
	debug.FreeOSMemory()
	return true
}
