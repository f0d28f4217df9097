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

// profileAPI reruns load with the api under a CPU profile and records the
// profile on every step in steps.
func (e *Env) profileAPI(ctx context.Context, name string, warm, load func() error, steps ...*report.Step) {
	file, rel := e.profilePath(name)
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return
	}
	err := e.Stack.ProfileAPI(ctx, file, warm, load)
	where := ""
	if err != nil {
		e.logf("profile %s: %v", name, err)
		where = "profile incomplete (" + err.Error() + "); "
	}
	if _, serr := os.Stat(file); serr != nil {
		for _, st := range steps {
			st.Where = "no profile: " + where + serr.Error()
		}
		return
	}
	where += TopOfProfile(file)
	for _, st := range steps {
		st.Profile, st.Where = rel, where
	}
}

func createFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return os.Create(path)
}

// TopOfProfile names where a profile's time (or, for a heap profile, its
// live memory) goes, in one line: the functions with the most flat
// samples, then the heaviest of Chatterly's own functions by cumulative
// samples, from `go tool pprof -top`. args go to pprof before the file
// (-sample_index=inuse_space for a heap profile).
func TopOfProfile(path string, args ...string) string {
	flat, err := pprofTop(path, 6, "", args...)
	if err != nil {
		return "profile written; go tool pprof could not read it: " + err.Error()
	}
	if len(flat) == 0 {
		return "profile written; it holds no samples"
	}
	line := "flat: " + strings.Join(flat, ", ")
	if ours, err := pprofTop(path, 4, "chatterly/chatterly/", append([]string{"-cum"}, args...)...); err == nil && len(ours) > 0 {
		line += "; heaviest of ours (cumulative): " + strings.Join(ours, ", ")
	}
	return line
}

// pprofTop returns up to n "share name" entries of `go tool pprof -top`,
// keeping only names containing only (all when empty).
func pprofTop(path string, n int, only string, args ...string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	argv := append([]string{"tool", "pprof", "-top", "-nodecount=60"}, args...)
	out, err := exec.CommandContext(ctx, "go", append(argv, path)...).Output()
	if err != nil {
		return nil, err
	}
	// Lines after the header: "flat flat% sum% cum cum% name".
	var parts []string
	started := false
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) >= 5 && f[0] == "flat" {
			started = true
			continue
		}
		if !started || len(f) < 6 {
			continue
		}
		name := strings.Join(f[5:], " ")
		if only != "" && !strings.Contains(name, only) {
			continue
		}
		share := f[1]
		if only != "" {
			share = f[4]
		}
		if share == "0%" {
			break // sorted: the rest hold no samples either
		}
		parts = append(parts, share+" "+strings.TrimPrefix(name, "github.com/chatterly/chatterly/"))
		if len(parts) == n {
			break
		}
	}
	return parts, nil
}

// heapWhere opens the Where of a heap profile.
const heapWhere = "live heap with the sockets idle, "

// profileEdge takes a profile of edge 0 from its admin address (kind
// "profile": CPU for secs seconds, while fn runs; "heap": live heap now)
// and records it on every step in steps, with args for pprof's summary.
func (e *Env) profileEdge(ctx context.Context, kind, name string, secs int, fn func(), steps ...*report.Step) {
	file, rel := e.profilePath(name)
	var err error
	if err = os.MkdirAll(filepath.Dir(file), 0o755); err == nil {
		done := make(chan error, 1)
		go func() { done <- e.Stack.EdgeProfile(ctx, 0, kind, secs, file) }()
		if fn != nil {
			fn()
		}
		err = <-done
	}
	where := ""
	switch {
	case err != nil:
		where = "no profile: " + err.Error()
		rel = ""
	case kind == "heap":
		where = heapWhere + TopOfProfile(file, "-sample_index=inuse_space")
	default:
		where = TopOfProfile(file)
	}
	for _, st := range steps {
		st.Profile, st.Where = rel, where
	}
}
