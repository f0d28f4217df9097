package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckEmail(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"a@b.co", "first.last+tag@example.com", "x@sub.example.org", "Ada@Example.COM"} {
		require.NoError(t, checkEmail(ok), ok)
	}
	for _, bad := range []string{
		"", "plain", "@example.com", "a@", "a@b", "a@.com", "a@b..com", "a@-b.com", "a@b-.com",
		"a b@example.com", "a@exa mple.com", "a\t@example.com", "a@b@example.com",
		strings.Repeat("a", 65) + "@example.com", "a@" + strings.Repeat("b", 250) + ".com",
	} {
		require.Error(t, checkEmail(bad), bad)
	}
}

func TestNormalizeUsername(t *testing.T) {
	t.Parallel()
	got, err := normalizeUsername("Ada.Lovelace_1")
	require.NoError(t, err)
	require.Equal(t, "ada.lovelace_1", got)
	for _, ok := range []string{"abc", strings.Repeat("z", 32), "a.b", "___"} {
		_, err := normalizeUsername(ok)
		require.NoError(t, err, ok)
	}
	for _, bad := range []string{"", "ab", strings.Repeat("z", 33), "a-b", "a b", "ab@c", "émile", "a/b"} {
		_, err := normalizeUsername(bad)
		require.Error(t, err, bad)
	}
}

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	require.NoError(t, checkPassword("password", "12345678"))
	require.NoError(t, checkPassword("password", "éééééééé"), "characters, not bytes, for the minimum")
	require.NoError(t, checkPassword("password", strings.Repeat("p", 256)))
	require.Error(t, checkPassword("password", ""))
	require.Error(t, checkPassword("password", "1234567"))
	require.Error(t, checkPassword("password", strings.Repeat("p", 257)))
	require.Error(t, checkPassword("password", strings.Repeat("é", 129)), "bytes, not characters, for the maximum")
}

func TestNormalizeDisplayName(t *testing.T) {
	t.Parallel()
	got, err := normalizeDisplayName("  Ada L.  ", "ada")
	require.NoError(t, err)
	require.Equal(t, "Ada L.", got)
	got, err = normalizeDisplayName("   ", "ada")
	require.NoError(t, err)
	require.Equal(t, "ada", got, "empty falls back to the username")
	_, err = normalizeDisplayName(strings.Repeat("x", 65), "ada")
	require.Error(t, err)
	_, err = normalizeDisplayName("a\x00b", "ada")
	require.Error(t, err)
}
