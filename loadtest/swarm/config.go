package swarm

import (
	"flag"
	"fmt"
	"net"
	"time"
)

// Config is one run. Flags() binds it to command-line flags.
type Config struct {
	Target   string // edge address host:port
	Admin    string // edge admin address, for its readiness (with EdgeBin)
	EdgePID  int    // the edge's pid, for CPU and memory (0: unmeasured unless EdgeBin)
	EdgeBin  string // when set, the coordinator starts this edge binary itself
	Redis    string
	Prefix   string
	Shards   int
	KeyDir   string
	Sockets  int
	Convs    int
	Users    int // distinct users; 0 = one per socket
	UserBase int64
	PerProc  int     // sockets per child process
	Connect  float64 // handshakes per second, over all children
	Dialers  int     // handshakes in flight per child

	Rate     float64       // events per second (0: connect and measure memory only)
	Payload  int           // bytes of each event's data
	Duration time.Duration // measured publishing time
	Warmup   time.Duration // publishing before measuring
	Settle   time.Duration // idle time before the memory reading
	JSON     string        // write the result here too
}

// Flags registers the configuration's flags on fs.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Target, "target", "127.0.0.1:8081", "edge WebSocket address (127.0.0.1 only)")
	fs.StringVar(&c.Admin, "admin", "127.0.0.1:8091", "edge admin address (with -edge-bin)")
	fs.IntVar(&c.EdgePID, "edge-pid", 0, "edge process id, for its CPU and memory")
	fs.StringVar(&c.EdgeBin, "edge-bin", "", "start this edge binary with matching settings (then -edge-pid is not needed)")
	fs.StringVar(&c.Redis, "redis", "redis://127.0.0.1:6379/0", "Redis URL the edge consumes (REDIS_URL)")
	fs.StringVar(&c.Prefix, "prefix", "load:", "Redis key prefix the edge uses (REDIS_KEY_PREFIX)")
	fs.IntVar(&c.Shards, "shards", 8, "stream shards (STREAM_SHARDS)")
	fs.StringVar(&c.KeyDir, "key-dir", "/var/tmp/chatterly-load/keys", "JWT key dir; a signing key is made when missing (JWT_KEY_DIR of the edge)")
	fs.IntVar(&c.Sockets, "sockets", 1000, "sockets to open")
	fs.IntVar(&c.Convs, "convs", 100, "conversations; socket i joins conversation i mod convs")
	fs.IntVar(&c.Users, "users", 0, "distinct users (0: one per socket)")
	fs.Int64Var(&c.UserBase, "user-base", 1_000_000, "first user id")
	fs.IntVar(&c.PerProc, "per-proc", 9000, "sockets per child process (each process has its own open-files limit)")
	fs.Float64Var(&c.Connect, "connect-rate", 5000, "handshakes per second over all children (open model: latency counts from each one's due time)")
	fs.IntVar(&c.Dialers, "dialers", 128, "handshakes in flight per child")
	fs.Float64Var(&c.Rate, "rate", 0, "events per second to publish (0: connect, measure memory, stop)")
	fs.IntVar(&c.Payload, "payload", 128, "bytes of each event's data")
	fs.DurationVar(&c.Duration, "duration", 30*time.Second, "measured publishing time")
	fs.DurationVar(&c.Warmup, "warmup", 3*time.Second, "publishing before the measurement")
	fs.DurationVar(&c.Settle, "settle", 10*time.Second, "idle time after connecting, before reading memory")
	fs.StringVar(&c.JSON, "json", "", "also write the result as JSON to this file")
}

// Check validates a coordinator's configuration.
func (c *Config) Check() error {
	switch {
	case c.Sockets < 1 || c.Convs < 1 || c.Convs > c.Sockets:
		return fmt.Errorf("want 1 <= -convs <= -sockets")
	case c.Payload < 48:
		return fmt.Errorf("-payload must be at least 48 bytes (the event's tag)")
	case c.Duration <= 0 || c.Duration > time.Hour:
		return fmt.Errorf("-duration must be within an hour")
	case c.Rate < 0 || c.Rate > 1_000_000:
		return fmt.Errorf("-rate must be from 0 to 1,000,000")
	case c.PerProc < 1 || c.PerProc > 19_000:
		return fmt.Errorf("-per-proc must be from 1 to 19,000")
	case c.Connect <= 0 || c.Dialers < 1:
		return fmt.Errorf("-connect-rate and -dialers must be positive")
	}
	if host, _, err := net.SplitHostPort(c.Target); err != nil || !(host == "127.0.0.1" || host == "localhost") {
		return fmt.Errorf("-target must be on 127.0.0.1: load runs stay on this machine")
	}
	return nil
}

// conv is socket i's conversation and user its user.
func (c *Config) conv(i int) int64 { return int64(i%c.Convs) + 1 }

// subscribers is how many sockets conversation conv has.
func (c *Config) subscribers(conv int64) int {
	n := c.Sockets / c.Convs
	if int(conv-1) < c.Sockets%c.Convs {
		n++
	}
	return n
}

func (c *Config) user(i int) int64 {
	if c.Users > 0 {
		return c.UserBase + int64(i%c.Users)
	}
	return c.UserBase + int64(i)
}
