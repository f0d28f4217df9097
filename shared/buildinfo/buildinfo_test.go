package buildinfo

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVersionFallsBackToTheRevision(t *testing.T) {
	t.Parallel()
	rev := "0123456789abcdef0123456789abcdef01234567"
	require.Equal(t, Info{Version: "1.2.3", Revision: rev, GoVersion: runtime.Version()},
		from("1.2.3", map[string]string{"vcs.revision": rev}), "a stamped version wins")
	require.Equal(t, "0123456789ab", from("", map[string]string{"vcs.revision": rev}).Version)
	dirty := from("", map[string]string{"vcs.revision": rev, "vcs.modified": "true"})
	require.Equal(t, "0123456789ab-dirty", dirty.Version)
	require.Equal(t, "0123456789ab-dirty (revision "+rev+", modified, "+runtime.Version()+")", dirty.String())
	require.Equal(t, Info{Version: "dev", Revision: "unknown", GoVersion: runtime.Version()}, from("", nil),
		"no stamp and no VCS information (-buildvcs=false)")
}
