package scenario

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/chatterly/chatterly/bench/report"
)

// profilePath is the file of a scenario's profile, and its path as the
// report (in the bench folder) links it.
func (e *Env) profilePath(name string) (file, rel string) {
	base := e.Run.ID + "-" + name + ".pprof"
	return filepath.Join(e.ResultsDir, base), "results/" + base
}

// profileSelf runs fn under a CPU profile of this process and records the
// profile, and where its time goes, on st (the step that missed).
func (e *Env) profileSelf(st *report.Step, name string, fn func()) {
	file, rel := e.profilePath(name)
	f, err := createFile(file)
	if err != nil {
		fn()
		st.Where = "no profile: " + err.Error()
		return
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		fn()
		st.Where = "no profile: " + err.Error()
		return
	}
	fn()
	pprof.StopCPUProfile()
	st.Profile, st.Where = rel, TopOfProfile(file)
}

func createFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return os.Create(path)
}

// TopOfProfile names where a CPU profile's time goes, in one line: the
// functions with the most flat time, from `go tool pprof -top`.
func TopOfProfile(path string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=6", path).Output()
	if err != nil {
		return "profile written; go tool pprof could not read it: " + err.Error()
	}
	// Lines after the header: "flat flat% sum% cum cum% name".
	var parts []string
	started := false
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) >= 6 && f[0] == "flat" {
			started = true
			continue
		}
		if !started || len(f) < 6 {
			continue
		}
		parts = append(parts, f[1]+" "+strings.Join(f[5:], " "))
	}
	if len(parts) == 0 {
		return "profile written; it holds no samples"
	}
	return "flat CPU: " + strings.Join(parts, ", ")
}
