package load

import (
	"net"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// FloorBody is what the floor server answers: 4 KiB of JSON, about the size
// of a cached conversation list.
var FloorBody = []byte(`{"items":["` + strings.Repeat("x", 4096-len(`{"items":[""]}`)) + `"]}`)

// ServeFloor answers every request on ln 200 with FloorBody, on a fasthttp
// server configured as the api's is: the floor under any api figure on
// the same machine and the same generator (the bench's reference row).
// It returns when ln is closed.
func ServeFloor(ln net.Listener) error {
	s := &fasthttp.Server{
		Handler: func(rc *fasthttp.RequestCtx) {
			rc.SetContentType("application/json")
			rc.SetBody(FloorBody)
		},
		Name:          "floor",
		ReadTimeout:   30 * time.Second,
		WriteTimeout:  30 * time.Second,
		IdleTimeout:   2 * time.Minute,
		NoDefaultDate: true,
	}
	return s.Serve(ln)
}
