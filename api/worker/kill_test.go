package worker_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/chatterly/chatterly/api/call"
	"github.com/chatterly/chatterly/shared/proctest"
	"github.com/stretchr/testify/require"
)

// spawn starts the chatterly-worker binary on e's database and keys and
// waits until it is ready.
func (e *env) spawn(t *testing.T) *proctest.Process {
	t.Helper()
	addr := proctest.Addr(proctest.FreePort(t))
	vars := map[string]string{}
	for k, v := range e.vars {
		vars[k] = v
	}
	vars["LOG_LEVEL"], vars["WORKER_ADDR"] = "info", addr
	p := proctest.Start(t, vars, proctest.Build(t, "github.com/chatterly/chatterly/api/cmd/chatterly-worker"))
	require.Eventually(t, func() bool { return proctest.Status("http://"+addr+"/readyz") == 200 },
		20*time.Second, 50*time.Millisecond, "worker not ready:\n%s", p.Log)
	return p
}

// kill ends the process with SIGKILL: no shutdown, no goodbye.
func kill(t *testing.T, p *proctest.Process) {
	t.Helper()
	p.Signal(syscall.SIGKILL)
	<-p.Done()
	require.Error(t, p.Err(), "killed, not exited")
}

func TestTheMissedCallJobSurvivesAKilledWorker(t *testing.T) {
	t.Parallel()
	const timeout = 2 * time.Second
	e := newEnv(t, timeout)
	first := e.spawn(t)
	c := e.newCall(t)
	kill(t, first)

	// Past the timeout, with no worker: nobody turned the call missed,
	// and its job is still queued in Postgres.
	require.Eventually(t, func() bool { return time.Since(c.CreatedAt) > timeout+200*time.Millisecond },
		2*timeout, 20*time.Millisecond)
	require.Equal(t, call.Calling, e.get(t, c).Status)
	require.Equal(t, "scheduled", e.jobState(t, c))

	second := e.spawn(t)
	restarted := time.Now()
	require.Eventually(t, func() bool { return e.get(t, c).Status == call.Missed }, 10*time.Second, 20*time.Millisecond,
		"worker output:\n%s", second.Log)
	t.Logf("missed %v after the restart", time.Since(restarted).Round(time.Millisecond))

	// River itself runs the job too, once the new process is its leader
	// (the killed one's leadership has to expire first: up to ~20 s).
	require.Eventually(t, func() bool { return e.jobState(t, c) == "completed" }, 45*time.Second, 200*time.Millisecond,
		"worker output:\n%s", second.Log)
	second.Signal(syscall.SIGTERM)
	<-second.Done()
	require.NoError(t, second.Err(), "a clean stop on SIGTERM:\n%s", second.Log)
}
