package sockets

import (
	"context"
	"fmt"
	"io"

	"github.com/chatterly/chatterly/loadtest/child"
)

// Serve is the child process: it answers the parent's Requests
// (loadtest/child's protocol) until "close" or the end of in (the parent
// died), then closes every socket.
func Serve(ctx context.Context, in io.Reader, out io.Writer) error {
	var g *Group
	defer func() {
		if g != nil {
			g.Close()
		}
	}()
	return child.Serve(in, out, func(req Request) (any, bool) {
		var resp Response
		switch {
		case req.Cmd == "start" && g == nil && req.Job != nil:
			g = NewGroup(*req.Job)
			st := g.Connect(ctx)
			resp.Start = &st
		case req.Cmd == "close":
			return Response{}, true
		case g == nil:
			resp.Err = "no job started (send start with a job first)"
		case req.Cmd == "status":
			st := g.Status()
			resp.Status = &st
		case req.Cmd == "count":
			resp.Count = g.Count(req.Phase)
		case req.Cmd == "report":
			rep := g.Report(req.Phase, req.Sent)
			resp.Report = &rep
		default:
			resp.Err = fmt.Sprintf("unknown command %q", req.Cmd)
		}
		return resp, false
	})
}
