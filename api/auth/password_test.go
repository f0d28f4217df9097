package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/stretchr/testify/require"
)

// Small parameters: these tests are about behaviour, not cost.
func testHasher(t *testing.T, concurrency int) *Hasher {
	h, err := NewHasher(8*1024, 1, concurrency)
	require.NoError(t, err)
	return h
}

func TestHashVerify(t *testing.T) {
	t.Parallel()
	h := testHasher(t, 2)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(enc, "$argon2id$v=19$m=8192,t=1,p=1$"), enc)
	enc2, err := h.Hash(ctx, "correct horse")
	require.NoError(t, err)
	require.NotEqual(t, enc, enc2, "every hash has its own salt")

	ok, err := h.Verify(ctx, "correct horse", enc)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = h.Verify(ctx, "correct horsf", enc)
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, h.VerifyNobody(ctx, "anything"))
}

// A hash made with other parameters still verifies: the stored ones are
// used, so raising the defaults locks nobody out.
func TestVerifyUsesStoredParameters(t *testing.T) {
	t.Parallel()
	old, err := NewHasher(16*1024, 2, 1)
	require.NoError(t, err)
	enc, err := old.Hash(context.Background(), "pass phrase")
	require.NoError(t, err)
	ok, err := testHasher(t, 1).Verify(context.Background(), "pass phrase", enc)
	require.NoError(t, err)
	require.True(t, ok)
}

func TestVerifyRejectsMalformedHashes(t *testing.T) {
	t.Parallel()
	h := testHasher(t, 1)
	good, err := h.Hash(context.Background(), "pass phrase")
	require.NoError(t, err)
	parts := strings.Split(good, "$")
	for _, bad := range []string{
		"",
		"plain text",
		"$2a$10$abcdefghijklmnopqrstuv", // bcrypt
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "m=8192", "m=99999999", 1), // would allocate ~100 GB
		strings.Replace(good, "t=1", "t=0", 1),
		strings.Replace(good, "p=1", "p=0", 1),
		strings.Join(append(parts[:4:4], "!!", parts[5]), "$"),
		strings.Join(append(parts[:5:5], "AAAA"), "$"), // key too short
	} {
		_, err := h.Verify(context.Background(), "pass phrase", bad)
		require.ErrorIs(t, err, errBadHash, bad)
	}
}

// With every slot taken a hash waits; it runs as soon as one frees, and a
// caller whose context ends while waiting gets unavailable.
func TestHashConcurrencyIsCapped(t *testing.T) {
	t.Parallel()
	h := testHasher(t, 2)
	h.slots <- struct{}{}
	h.slots <- struct{}{}
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), "pass phrase")
		done <- err
	}()
	require.Never(t, func() bool { return len(done) > 0 }, 100*time.Millisecond, 10*time.Millisecond,
		"no hash runs while every slot is taken")
	h.release()
	require.Eventually(t, func() bool { return len(done) > 0 }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, <-done)

	h.slots <- struct{}{} // full again (one was released, the hash returned its own)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.Hash(ctx, "pass phrase")
	fe, ok := fault.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, fault.Unavailable, fe.Code)
}

func TestNewHasherRejectsBadParameters(t *testing.T) {
	t.Parallel()
	for _, p := range [][3]int{{4, 1, 1}, {8192, 0, 1}, {8192, 1, 0}, {2 << 20, 1, 1}} {
		_, err := NewHasher(p[0], p[1], p[2])
		require.Error(t, err, "%v", p)
	}
}
