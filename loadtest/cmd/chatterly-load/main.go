// Command chatterly-load is the many-socket load generator for the edge:
// it opens -sockets authenticated Action Cable sockets (from several child
// processes when they exceed one process's open-files limit), each
// subscribed to one of -convs conversations, publishes -rate events per
// second to the shard streams for -duration, and reports handshakes per
// second, the edge's memory per socket and CPU per frame, delivery lag and
// loss.
//
//	go run ./loadtest/cmd/chatterly-load -edge-bin bin/chatterly-edge \
//	    -redis redis://127.0.0.1:6379/0 -sockets 19000 -convs 1000 -rate 1000 -duration 60s
//
// Run as `chatterly-load sockets` it is one of its own socket-holding
// children (loadtest/sockets, the same client as the bench's), driven over
// stdin and stdout.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/chatterly/chatterly/loadtest/sockets"
	"github.com/chatterly/chatterly/loadtest/swarm"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "sockets" {
		if err := sockets.Serve(context.Background(), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "chatterly-load sockets:", err)
			os.Exit(1)
		}
		return
	}
	var cfg swarm.Config
	cfg.Flags(flag.CommandLine)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := swarm.Run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chatterly-load:", err)
		os.Exit(1)
	}
}
