package server

import (
	"runtime"
	"runtime/debug"
	"time"
)

// A burst of handshakes leaves garbage (token parsing, HTTP heads, Redis
// replies) that the heap grows for and then keeps: Go returns freed pages
// to the OS only slowly. Once a burst of at least tidyAfter handshakes has
// been followed by tidyQuiet without one, the edge collects and returns
// the free memory at once, so its resident size follows its live sockets.
// It costs two GCs per burst, at a quiet moment.
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
	// Two collections: the first moves sync.Pool contents (handshake
	// buffers) to the pools' victim caches, the second frees them; then
	// the free pages go back to the OS.
	runtime.GC()
	debug.FreeOSMemory()
	return true
}

// heapStats is what a tidy leaves: live bytes, and bytes in the spans
// holding them (the difference is fragmentation).
func heapStats() (alloc, inuse uint64) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.HeapInuse
}
