package swarm

import (
	"context"
	"os"
	"path/filepath"
	"strconv"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/chatterly/chatterly/shared/rkey"
	"github.com/chatterly/chatterly/shared/token"
	"github.com/redis/rueidis"
)

// ensureKey makes a signing key in dir when there is none.
func ensureKey(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "signing.key")); err == nil {
		return nil
	}
	return token.GenerateKey(dir)
}

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
	cmds := make(rueidis.Commands, 0, 2*cfg.Convs)
	for c := 1; c <= cfg.Convs; c++ {
		key := keys.Members(id.ID(c))
		cmds = append(cmds, rdb.B().Del().Key(key).Build(), rdb.B().Sadd().Key(key).Member(members[c]...).Build())
	}
	for _, r := range rdb.DoMulti(ctx, cmds...) { // rueidis pipelines them
		if err := r.Error(); err != nil {
			return err
		}
	}
	return nil
}
