package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"golang.org/x/crypto/argon2"
)

// Argon2id parameters that are not configurable. One thread per hash: the
// concurrency cap, not the KDF, decides how many cores hashing may take.
const (
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
	// maxArgonMemory refuses a stored hash whose parameters would make one
	// verify allocate more than 1 GiB (a corrupted or hostile row).
	maxArgonMemory = 1 << 20
	maxArgonTime   = 10
)

// hashWait is how long a request waits for a hashing slot before it is
// told to come back (503 with Retry-After): long enough to ride out a burst
// of logins, short enough that a client is not left hanging behind one.
const hashWait = 5 * time.Second

// errBadHash is a stored hash that is not an argon2id PHC string.
var errBadHash = errors.New("auth: stored password hash is not argon2id")

// Hasher hashes and verifies passwords with argon2id, at most a fixed number
// at a time. Each hash takes tens of milliseconds of CPU and its memory
// parameter in RAM; without the cap a burst of logins would take every core
// and starve every other request of the process.
type Hasher struct {
	memory uint32 // KiB
	passes uint32
	slots  chan struct{}
	// dummy is a real hash of a random password: an unknown account is
	// verified against it so its answer takes as long as a known one's.
	dummy string
}

// NewHasher returns a Hasher using memoryKiB and passes for new hashes and
// running at most concurrency hashes at once.
func NewHasher(memoryKiB, passes, concurrency int) (*Hasher, error) {
	if memoryKiB < 8 || memoryKiB > maxArgonMemory || passes < 1 || passes > maxArgonTime || concurrency < 1 {
		return nil, fmt.Errorf("auth: argon2id memory %d KiB, time %d, concurrency %d out of range", memoryKiB, passes, concurrency)
	}
	h := &Hasher{memory: uint32(memoryKiB), passes: uint32(passes), slots: make(chan struct{}, concurrency)}
	var pw [16]byte
	_, _ = rand.Read(pw[:])
	h.dummy = h.encode(pw[:])
	return h, nil
}

// Hash returns the PHC string of password:
// $argon2id$v=19$m=<KiB>,t=<passes>,p=1$<salt>$<key>, base64 without padding.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.encode([]byte(password)), nil
}

func (h *Hasher) encode(password []byte) string {
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt)
	key := argon2.IDKey(password, salt, h.passes, h.memory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.memory, h.passes, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether password matches encoded, with the parameters
// stored in encoded (so raising the defaults never locks anyone out).
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	p, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	key := argon2.IDKey([]byte(password), p.salt, p.passes, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

// VerifyNobody spends the time a real verify would, for an account that
// does not exist, and always fails.
func (h *Hasher) VerifyNobody(ctx context.Context, password string) error {
	_, err := h.Verify(ctx, password, h.dummy)
	return err
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(hashWait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-t.C:
		return &fault.Error{Code: fault.Unavailable, Message: "too many sign-ins at once; try again shortly", RetryAfter: time.Second}
	case <-ctx.Done():
		return &fault.Error{Code: fault.Unavailable, Message: "the server is stopping", Err: ctx.Err()}
	}
}

func (h *Hasher) release() { <-h.slots }

type phc struct {
	memory, passes uint32
	threads        uint8
	salt, key      []byte
}

func parsePHC(s string) (phc, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return phc{}, errBadHash
	}
	var p phc
	var threads int
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.passes, &threads); err != nil || n != 3 {
		return phc{}, errBadHash
	}
	if p.memory < 8 || p.memory > maxArgonMemory || p.passes < 1 || p.passes > maxArgonTime || threads < 1 || threads > 255 {
		return phc{}, errBadHash
	}
	p.threads = uint8(threads)
	var err1, err2 error
	p.salt, err1 = base64.RawStdEncoding.DecodeString(parts[4])
	p.key, err2 = base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(p.salt) < 8 || len(p.key) < 16 || len(p.key) > 64 {
		return phc{}, errBadHash
	}
	return p, nil
}
