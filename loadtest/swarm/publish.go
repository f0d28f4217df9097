package swarm

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/chatterly/chatterly/loadtest/sockets"
	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/redis/rueidis"
)

// publisher appends ephemeral events (typing, from user 1, whom no socket
// belongs to) to the conversations' shard streams at a steady rate, round
// robin over the conversations. Each carries the bench tag of
// loadtest/sockets ("b:<phase>:<k>:<unix ns at append>") as its body,
// padded to the configured size, so the sockets time and account it.
type publisher struct {
	rdb  rueidis.Client
	app  *event.Appender
	cfg  *Config
	pad  string
	errs int
}

func newPublisher(rdb rueidis.Client, keys rkey.Space, cfg *Config) *publisher {
	p := &publisher{rdb: rdb, app: event.NewAppender(rdb, keys, 1_000_000), cfg: cfg}
	fixed := len(`{"user_id":"1","body":"b:1:1234567:1234567890123456789","pad":""}`)
	p.pad = strings.Repeat("x", max(0, cfg.Payload-fixed))
	return p
}

// run publishes phase ph for d, pacing by the clock every millisecond
// (events due in one millisecond go out in one pipeline), and returns
// what was appended, by conversation, for the sockets' accounting.
func (p *publisher) run(ctx context.Context, ph uint16, d time.Duration) (sent []sockets.Expect, n int64) {
	byConv := make([][]uint32, p.cfg.Convs+1)
	start := time.Now()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	cmds := make(rueidis.Commands, 0, 256)
	convs := make([]int64, 0, 256)
	var k uint32
	for el := time.Duration(0); el < d && ctx.Err() == nil; el = time.Since(start) {
		<-tick.C
		due := int64(el.Seconds()*p.cfg.Rate) + 1 - int64(k)
		cmds, convs = cmds[:0], convs[:0]
		now := time.Now()
		for i := int64(0); i < due; i++ {
			conv := (int64(k)+i)%int64(p.cfg.Convs) + 1
			cmds = append(cmds, p.app.Command(rkey.TopicConversation+strconv.FormatInt(conv, 10),
				p.envelope(conv, sockets.Tag(ph, k+uint32(i), now), now)))
			convs = append(convs, conv)
		}
		for i, r := range p.rdb.DoMulti(ctx, cmds...) {
			if r.Error() != nil {
				p.errs++
			} else {
				byConv[convs[i]] = append(byConv[convs[i]], k+uint32(i))
				n++
			}
		}
		k += uint32(max(due, 0))
	}
	for c, ks := range byConv {
		if len(ks) > 0 {
			sent = append(sent, sockets.Expect{Conv: int64(c), Ks: ks})
		}
	}
	return sent, n
}

func (p *publisher) envelope(conv int64, tag string, at time.Time) []byte {
	b := make([]byte, 0, 200+len(p.pad))
	b = append(b, `{"type":"typing","conversation_id":"`...)
	b = strconv.AppendInt(b, conv, 10)
	b = append(b, `","at":"`...)
	b = at.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, `","data":{"user_id":"1","body":"`...)
	b = append(b, tag...)
	b = append(b, `","pad":"`...)
	b = append(b, p.pad...)
	return append(b, `"}}`...)
}
