// Command chatterly-bench runs the bench harness: `make bench` (the full
// run, whose report is committed under bench/) and `make bench-smoke` (tiny
// loads, report written into the scratch data folder only). Run as
// `chatterly-bench sockets` it is one of the harness's socket-holding
// children (loadtest/sockets), driven over stdin and stdout; as
// `chatterly-bench profile-api <file>` it is the api under a CPU profile
// (bench/profiled); as `chatterly-bench floor`, the REST scenario's
// reference server (loadtest/load.ServeFloor), which prints its address.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/chatterly/chatterly/bench/harness"
	"github.com/chatterly/chatterly/bench/profiled"
	"github.com/chatterly/chatterly/bench/scenario"
	"github.com/chatterly/chatterly/bench/stack"
	"github.com/chatterly/chatterly/loadtest/load"
	"github.com/chatterly/chatterly/loadtest/sockets"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "sockets": // a child of the harness holding a share of the sockets
			if err := sockets.Serve(context.Background(), os.Stdin, os.Stdout); err != nil {
				fail(err)
			}
			return
		case "floor": // the REST scenario's reference server (scenario.StepFloor)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				fail(err)
			}
			fmt.Println(ln.Addr())
			if err := load.ServeFloor(ln); err != nil {
				fail(err)
			}
			return
		case "profile-api": // the api rerun under a CPU profile
			if len(os.Args) != 3 {
				fail(fmt.Errorf("usage: %s profile-api <profile file>", os.Args[0]))
			}
			if err := profiled.Run(os.Args[2]); err != nil {
				fail(err)
			}
			return
		}
	}
	smoke := flag.Bool("smoke", false, "tiny loads, report into the data folder, never into bench/")
	edges := flag.Int("edges", 3, "edge processes to start (the fleet scenario uses them all)")
	out := flag.String("out", "", "where REPORT.md and results/ go (default: bench/ for a full run)")
	render := flag.String("render", "", "write the report again from this run's JSON, measuring nothing")
	reportOnly := flag.Bool("report-only", false, "exit 0 even when targets fail (the run is for its report); a smoke run always does")
	scenarios := flag.String("scenarios", "", "comma-separated scenarios to run (default: all); the report then goes to the data folder, not bench/")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "[bench %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	checkout, err := stack.Checkout()
	if err != nil {
		fail(err)
	}
	if *render != "" {
		dir := *out
		if dir == "" {
			dir = filepath.Join(checkout, "bench")
		}
		files, err := harness.Render(checkout, *render, dir)
		for _, f := range files {
			logf("wrote %s", f)
		}
		if err != nil {
			fail(err)
		}
		return
	}
	o := harness.Options{Checkout: checkout, Size: scenario.Full, Edges: *edges, Logf: logf, OutDir: *out}
	if *scenarios != "" {
		o.Scenarios = strings.Split(*scenarios, ",")
	}
	sub := "bench"
	if *smoke {
		o.Size, sub = scenario.Smoke, "bench-smoke"
	}
	if o.DataDir, err = stack.DataDir(ctx, checkout, sub); err != nil {
		fail(err)
	}
	if o.OutDir == "" {
		o.OutDir = filepath.Join(checkout, "bench")
		if *smoke || *scenarios != "" {
			o.OutDir = filepath.Join(o.DataDir, "out")
		}
	}
	t0 := time.Now()
	run, files, err := harness.Run(ctx, o)
	for _, f := range files {
		logf("wrote %s", f)
	}
	if err != nil {
		fail(err)
	}
	logf("done in %s", time.Since(t0).Round(time.Second))
	lines, notPassed := harness.Summary(run)
	for _, l := range lines {
		fmt.Fprintln(os.Stderr, l)
	}
	// A smoke run checks that the harness runs, not the figures.
	if notPassed > 0 && !*smoke && !*reportOnly {
		fail(fmt.Errorf("%d target(s) not passed (run with -report-only, or make bench BENCH_FLAGS=-report-only, to exit 0)", notPassed))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "chatterly-bench:", err)
	os.Exit(1)
}
