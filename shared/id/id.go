// Package id makes Chatterly's 64-bit, time-ordered ids and renders them as
// JSON strings (JavaScript cannot hold 64-bit integers as numbers).
//
// Layout, high bit to low: 1 zero bit, 41 bits of milliseconds since Epoch
// (enough until 2093), 10 bits of node id, 12 bits of sequence. Ids from one
// generator strictly increase; ids from generators with different node ids
// never collide. Because the time is in the high bits, a range of ids is a
// range of time: the messages and event tables are range-partitioned by id,
// so a lookup by id prunes to one partition. The SQL function
// chatterly_id_floor mirrors Floor and must stay in step with it.
package id

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Epoch is the zero of the time bits: 2024-01-01T00:00:00Z.
var Epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	nodeBits = 10
	seqBits  = 12
	// MaxNode is the largest node id.
	MaxNode = 1<<nodeBits - 1
	maxSeq  = 1<<seqBits - 1
)

const shift = nodeBits + seqBits

// ID is a Chatterly id. Its JSON form is a decimal string.
type ID int64

// String renders the id in decimal.
func (i ID) String() string { return strconv.FormatInt(int64(i), 10) }

// MarshalJSON renders the id as a JSON string.
func (i ID) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 21)
	b = append(b, '"')
	b = strconv.AppendInt(b, int64(i), 10)
	return append(b, '"'), nil
}

// ErrSyntax is returned for an id that is not a positive decimal string.
var ErrSyntax = errors.New("id: want a positive decimal string")

// UnmarshalJSON accepts only a JSON string of a positive decimal number, so
// a client that sends a number (and has lost precision) hears about it.
func (i *ID) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return ErrSyntax
	}
	v, err := Parse(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	*i = v
	return nil
}

// Parse reads a positive decimal id.
func Parse(s string) (ID, error) {
	if s == "" || len(s) > 19 || s[0] == '+' || s[0] == '-' {
		return 0, ErrSyntax
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, ErrSyntax
	}
	return ID(v), nil
}

// Time is when the id was made, to the millisecond.
func (i ID) Time() time.Time {
	return Epoch.Add(time.Duration(int64(i)>>shift) * time.Millisecond)
}

// Floor is the smallest id that can be made at t (or 0 before Epoch).
func Floor(t time.Time) ID {
	ms := t.Sub(Epoch).Milliseconds()
	if ms < 0 {
		return 0
	}
	return ID(ms << shift)
}

// Generator makes ids for one node. It is safe for concurrent use.
type Generator struct {
	mu     sync.Mutex
	node   int64
	lastMS int64
	seq    int64
	now    func() time.Time
}

// NewGenerator returns a generator for node (0..MaxNode).
func NewGenerator(node int) (*Generator, error) {
	if node < 0 || node > MaxNode {
		return nil, fmt.Errorf("id: node %d outside 0..%d", node, MaxNode)
	}
	return &Generator{node: int64(node), now: time.Now}, nil
}

// Next returns a new id, greater than every id this generator made before.
// When the clock steps back, or 4,096 ids are made in one millisecond, the
// generator borrows from the next millisecond instead of waiting or
// repeating itself.
func (g *Generator) Next() ID {
	g.mu.Lock()
	defer g.mu.Unlock()
	ms := g.now().Sub(Epoch).Milliseconds()
	if ms > g.lastMS {
		g.lastMS, g.seq = ms, 0
	} else if g.seq++; g.seq > maxSeq {
		g.lastMS++
		g.seq = 0
	}
	return ID(g.lastMS<<shift | g.node<<seqBits | g.seq)
}
