package sockets

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// Serve is the child process: it reads Requests from in, one JSON object a
// line, and answers each with one Response line on out, until "close" or
// the end of in (the parent died), then closes every socket.
func Serve(ctx context.Context, in io.Reader, out io.Writer) error {
	dec := json.NewDecoder(bufio.NewReaderSize(in, 1<<20))
	enc := json.NewEncoder(out)
	var g *Group
	defer func() {
		if g != nil {
			g.Close()
		}
	}()
	for {
		var req Request
		if err := dec.Decode(&req); err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("sockets: read request: %w", err)
		}
		var resp Response
		switch {
		case req.Cmd == "start" && g == nil && req.Job != nil:
			g = NewGroup(*req.Job)
			st := g.Connect(ctx)
			resp.Start = &st
		case req.Cmd == "close":
			return enc.Encode(Response{})
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
		if err := enc.Encode(resp); err != nil {
			return fmt.Errorf("sockets: write response: %w", err)
		}
	}
}
