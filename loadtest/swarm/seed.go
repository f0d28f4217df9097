package swarm

import (
	"context"
	"strconv"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/redis/rueidis"
)

// seed writes every conversation's member set as the api keeps it: the
// members' user ids and the sentinel "0".
func seed(ctx context.Context, rdb rueidis.Client, keys rkey.Space, cfg *Config) error {
	members := make([][]string, cfg.Convs+1)
	for c := range members {
		members[c] = []string{"0"}
	}
	for i := 0; i < cfg.Sockets; i++ {
		c := cfg.conv(i)
		members[c] = append(members[c], strconv.FormatInt(cfg.user(i), 10))
	}
	cmds := make(rueidis.Commands, 0, 512)
	flush := func() error {
		for _, r := range rdb.DoMulti(ctx, cmds...) {
			if err := r.Error(); err != nil {
				return err
			}
		}
		cmds = cmds[:0]
		return nil
	}
	for c := 1; c <= cfg.Convs; c++ {
		key := keys.Members(id.ID(c))
		cmds = append(cmds, rdb.B().Del().Key(key).Build(), rdb.B().Sadd().Key(key).Member(members[c]...).Build())
		if len(cmds) >= 500 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}
