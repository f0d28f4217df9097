// Command chatterly-probe is the images' health check: the runtime images
// have no shell and no curl, so HEALTHCHECK (and a compose healthcheck) runs
// this static binary instead. It GETs the URL given as its only argument
// and exits 0 when the answer is 2xx within 2 seconds, 1 otherwise (the
// exit codes Docker's HEALTHCHECK expects).
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: chatterly-probe http://127.0.0.1:8080/readyz")
		os.Exit(2)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "chatterly-probe:", err)
		os.Exit(1)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		fmt.Fprintln(os.Stderr, "chatterly-probe:", resp.Status)
		os.Exit(1)
	}
}
