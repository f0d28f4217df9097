package swarm

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/chatterly/chatterly/shared/event"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/redis/rueidis"
)

// publisher appends message.created events at a steady rate, round-robin
// over the conversations, each with its conversation's next seq. An
// event's data is {"n":<number>,"ts":<unix ns at append>,"pad":"…"},
// padded to the configured size.
type publisher struct {
	rdb  rueidis.Client
	app  *event.Appender
	cfg  *Config
	n    int64
	seq  []int64
	pad  string
	errs int
}

func newPublisher(rdb rueidis.Client, keys rkey.Space, cfg *Config) *publisher {
	p := &publisher{rdb: rdb, app: event.NewAppender(rdb, keys, 1_000_000), cfg: cfg, seq: make([]int64, cfg.Convs+1)}
	fixed := len(`{"n":,"ts":,"pad":""}`) + 10 + 19
	p.pad = strings.Repeat("x", max(0, cfg.Payload-fixed))
	return p
}

// run publishes for d, pacing by the clock every millisecond (events due
// in one millisecond go out in one pipeline). It returns how many events
// it appended.
func (p *publisher) run(ctx context.Context, d time.Duration) int64 {
	start := time.Now()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	var sent int64
	cmds := make(rueidis.Commands, 0, 256)
	for {
		select {
		case <-ctx.Done():
			return sent
		case now := <-tick.C:
			el := now.Sub(start)
			if el >= d {
				return sent
			}
			due := int64(el.Seconds()*p.cfg.Rate) + 1 - sent
			if due <= 0 {
				continue
			}
			cmds = cmds[:0]
			ts := time.Now().UnixNano()
			for i := int64(0); i < due; i++ {
				p.n++
				conv := p.n%int64(p.cfg.Convs) + 1
				p.seq[conv]++
				cmds = append(cmds, p.app.Command(rkey.TopicConversation+strconv.FormatInt(conv, 10), p.envelope(conv, p.seq[conv], ts)))
			}
			for _, r := range p.rdb.DoMulti(ctx, cmds...) {
				if r.Error() != nil {
					p.errs++
				}
			}
			sent += due
		}
	}
}

func (p *publisher) envelope(conv, seq, ts int64) []byte {
	b := make([]byte, 0, 160+len(p.pad))
	b = append(b, `{"type":"message.created","conversation_id":"`...)
	b = strconv.AppendInt(b, conv, 10)
	b = append(b, `","seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, `,"at":"`...)
	b = time.Unix(0, ts).UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, `","data":{"n":`...)
	b = strconv.AppendInt(b, p.n, 10)
	b = append(b, `,"ts":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"pad":"`...)
	b = append(b, p.pad...)
	return append(b, `"}}`...)
}
