package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chatterly/chatterly/shared/proctest"
	"github.com/chatterly/chatterly/shared/rkey"
)

// Cluster is a Redis Cluster of the test package's own, run from the
// redis-server binary (cluster-enabled yes, created with `redis-cli --cluster
// create`). Forming one takes seconds, so a package starts it once, in
// TestMain, and its tests share it, each under its own key prefix:
//
//	func TestMain(m *testing.M) {
//		c, err := redistest.StartCluster(redistest.ClusterConfig{Masters: 3, Replicas: 1})
//		...
//		code := m.Run()
//		c.Stop()
//		os.Exit(code)
//	}
//
// Every node listens on 127.0.0.1 and has an explicit cluster bus port, both
// below 32768 (the default bus port, port + 10000, would land in the
// kernel's ephemeral range). A failover test kills a master (Kill, as
// kill -9 does) and waits for its replica to take over (WaitHealthy).
type Cluster struct {
	cfg   ClusterConfig
	dir   string
	mu    sync.Mutex
	nodes []*ClusterNode
}

// ClusterConfig shapes a cluster.
type ClusterConfig struct {
	// Masters is the number of masters (at least 3, as redis-cli asks).
	Masters int
	// Replicas is the number of replicas per master (0 or more).
	Replicas int
	// NodeTimeout is cluster-node-timeout: how long a master may be silent
	// before it is failed over. 0 means 1 s (Redis' default, 15 s, would
	// make a failover test wait that long).
	NodeTimeout time.Duration
}

// ClusterNode is one redis-server of a Cluster.
type ClusterNode struct {
	Port    int
	BusPort int
	// URL is redis://127.0.0.1:Port/0: any node's URL is enough for a
	// client, which discovers the others.
	URL  string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
	log  bytes.Buffer
	mu   sync.Mutex
}

// Addr is the node's host:port.
func (n *ClusterNode) Addr() string { return fmt.Sprintf("127.0.0.1:%d", n.Port) }

// Running reports whether the node's process is alive.
func (n *ClusterNode) Running() bool {
	if n.done == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// portLow and portHigh bound the ports cluster nodes take (client and
// bus): loopback ports below the ephemeral range, clear of the fixed ones
// deploy/local's TestFleet gives make fleet (22500 and up).
const portLow, portHigh = 22100, 22400

// StartCluster starts masters × (1 + replicas) nodes in a temporary
// folder, creates the cluster and waits until every node reports
// cluster_state:ok and every replica is in sync with its master. It fails
// with the command to run when redis-server or redis-cli is missing.
func StartCluster(cfg ClusterConfig) (*Cluster, error) {
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("redistest: %s is not on PATH (install it: apt-get install -y redis-server): %w", bin, err)
		}
	}
	if cfg.Masters < 3 {
		cfg.Masters = 3
	}
	if cfg.NodeTimeout <= 0 {
		cfg.NodeTimeout = time.Second
	}
	var err error
	// Ports are free when picked but another test package may take one
	// before our server binds it: pick again then.
	for attempt := 0; attempt < 3; attempt++ {
		var c *Cluster
		if c, err = startCluster(cfg); err == nil {
			return c, nil
		}
	}
	return nil, err
}

func startCluster(cfg ClusterConfig) (*Cluster, error) {
	dir, err := os.MkdirTemp("", "chatterly-redis-cluster")
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, dir: dir}
	n := cfg.Masters * (1 + cfg.Replicas)
	ports, err := freePorts(2 * n)
	if err != nil {
		c.Stop()
		return nil, err
	}
	for i := 0; i < n; i++ {
		node := &ClusterNode{Port: ports[2*i], BusPort: ports[2*i+1]}
		node.URL = fmt.Sprintf("redis://127.0.0.1:%d/0", node.Port)
		node.dir = filepath.Join(dir, strconv.Itoa(node.Port))
		if err := os.MkdirAll(node.dir, 0o755); err != nil {
			c.Stop()
			return nil, err
		}
		c.nodes = append(c.nodes, node)
		if err := c.start(node); err != nil {
			c.Stop()
			return nil, err
		}
	}
	args := []string{"--cluster", "create"}
	for _, node := range c.nodes {
		args = append(args, node.Addr())
	}
	args = append(args, "--cluster-replicas", strconv.Itoa(cfg.Replicas), "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("redistest: redis-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if err := c.WaitHealthy(60 * time.Second); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// start runs node's redis-server and waits until it answers.
func (c *Cluster) start(node *ClusterNode) error {
	node.cmd = exec.Command("redis-server",
		"--port", strconv.Itoa(node.Port), "--bind", "127.0.0.1",
		"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(node.BusPort),
		"--cluster-config-file", filepath.Join(node.dir, "nodes.conf"),
		"--cluster-node-timeout", strconv.FormatInt(c.cfg.NodeTimeout.Milliseconds(), 10),
		// A replica may always take over, however long since it heard
		// from its master: a failover test must not hang on staleness.
		"--cluster-replica-validity-factor", "0",
		"--dir", node.dir, "--save", "", "--appendonly", "no", "--loglevel", "warning")
	node.mu.Lock()
	node.log.Reset()
	node.mu.Unlock()
	node.cmd.Stdout = lockedWriter{node}
	node.cmd.Stderr = lockedWriter{node}
	node.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := node.cmd.Start(); err != nil {
		return fmt.Errorf("redistest: start redis-server: %w", err)
	}
	done := make(chan struct{})
	node.done = done
	go func() { _ = node.cmd.Wait(); close(done) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if out, err := cli(node.Port, "PING"); err == nil && out == "PONG" {
			return nil
		}
		if !node.Running() || time.Now().After(deadline) {
			return fmt.Errorf("redistest: redis-server on port %d did not start:\n%s", node.Port, node.Log())
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, not waiting out a guess
	}
}

type lockedWriter struct{ n *ClusterNode }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.n.mu.Lock()
	defer w.n.mu.Unlock()
	return w.n.log.Write(p)
}

// Log is what the node printed.
func (n *ClusterNode) Log() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.log.String()
}

// Nodes lists every node, in creation order (the first Masters were
// created as masters; roles change with failovers: see Masters).
func (c *Cluster) Nodes() []*ClusterNode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*ClusterNode(nil), c.nodes...)
}

// URL is the first running node's URL.
func (c *Cluster) URL() string {
	for _, n := range c.Nodes() {
		if n.Running() {
			return n.URL
		}
	}
	return ""
}

// Kill ends node with SIGKILL, as `kill -9` does, and waits until it is gone.
func (c *Cluster) Kill(node *ClusterNode) {
	if node.Running() {
		_ = node.cmd.Process.Signal(syscall.SIGKILL)
		<-node.done
	}
}

// Pause stops node's process (SIGSTOP): it answers nothing, replicates
// nothing, and its connections stay open. Resume continues it.
func (c *Cluster) Pause(node *ClusterNode) { _ = node.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues a paused node (SIGCONT).
func (c *Cluster) Resume(node *ClusterNode) { _ = node.cmd.Process.Signal(syscall.SIGCONT) }

// CutReplication closes master's connections to its replicas (CLIENT KILL
// TYPE replica): what master takes until a replica reconnects (within a
// second, unless it is paused) is not replicated.
func (c *Cluster) CutReplication(master *ClusterNode) error {
	_, err := cli(master.Port, "CLIENT", "KILL", "TYPE", "replica")
	return err
}

// nodeLine is one line of CLUSTER NODES: its fields and its node.
type nodeLine struct {
	f    []string
	node *ClusterNode // nil for a node not of this cluster
}

// clusterNodes reads CLUSTER NODES from a running node other than except
// (which may be nil).
func (c *Cluster) clusterNodes(except *ClusterNode) ([]nodeLine, error) {
	var from *ClusterNode
	byPort := map[int]*ClusterNode{}
	for _, n := range c.Nodes() {
		byPort[n.Port] = n
		if from == nil && n != except && n.Running() {
			from = n
		}
	}
	if from == nil {
		return nil, errors.New("redistest: no node is running")
	}
	out, err := cli(from.Port, "CLUSTER", "NODES")
	if err != nil {
		return nil, err
	}
	var lines []nodeLine
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		_, p, _ := net.SplitHostPort(strings.SplitN(f[1], "@", 2)[0])
		port, _ := strconv.Atoi(p)
		lines = append(lines, nodeLine{f: f, node: byPort[port]})
	}
	return lines, nil
}

// ReplicaOf returns a replica of master, as CLUSTER NODES on a running node
// other than master tells.
func (c *Cluster) ReplicaOf(master *ClusterNode) (*ClusterNode, error) {
	lines, err := c.clusterNodes(master)
	if err != nil {
		return nil, err
	}
	masterID := ""
	for _, l := range lines {
		if l.node == master {
			masterID = l.f[0]
		}
	}
	for _, l := range lines {
		if masterID != "" && l.f[3] == masterID && strings.Contains(l.f[2], "slave") && l.node != nil {
			return l.node, nil
		}
	}
	return nil, fmt.Errorf("redistest: no replica of node %d", master.Port)
}

// Restart starts a killed node again on its ports and folder; it rejoins
// the cluster from its nodes.conf (a master that was failed over comes
// back as its successor's replica).
func (c *Cluster) Restart(node *ClusterNode) error {
	if node.Running() {
		return errors.New("redistest: node is running")
	}
	return c.start(node)
}

// Stop kills every node and removes the cluster's folder.
func (c *Cluster) Stop() {
	for _, n := range c.Nodes() {
		c.Kill(n)
	}
	os.RemoveAll(c.dir)
}

// Shard is one master and the slots it serves, as a running node sees it.
type Shard struct {
	Master *ClusterNode
	// Slots are the ranges [from, to] the master serves.
	Slots [][2]int
}

// Serves reports whether the shard holds slot.
func (s Shard) Serves(slot int) bool {
	for _, r := range s.Slots {
		if slot >= r[0] && slot <= r[1] {
			return true
		}
	}
	return false
}

// Masters reads CLUSTER NODES from a running node and returns the masters
// that serve slots and are not failed, in port order.
func (c *Cluster) Masters() ([]Shard, error) {
	lines, err := c.clusterNodes(nil)
	if err != nil {
		return nil, err
	}
	var shards []Shard
	for _, l := range lines {
		f, node := l.f, l.node
		if node == nil || !strings.Contains(f[2], "master") || strings.Contains(f[2], "fail") {
			continue
		}
		s := Shard{Master: node}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") { // a slot being migrated
				continue
			}
			lo, hi, ok := strings.Cut(r, "-")
			a, _ := strconv.Atoi(lo)
			b := a
			if ok {
				b, _ = strconv.Atoi(hi)
			}
			s.Slots = append(s.Slots, [2]int{a, b})
		}
		if len(s.Slots) > 0 {
			shards = append(shards, s)
		}
	}
	sort.Slice(shards, func(i, j int) bool { return shards[i].Master.Port < shards[j].Master.Port })
	return shards, nil
}

// MasterOf returns the master serving key's slot.
func (c *Cluster) MasterOf(key string) (*ClusterNode, error) {
	slot, err := c.Slot(key)
	if err != nil {
		return nil, err
	}
	shards, err := c.Masters()
	if err != nil {
		return nil, err
	}
	for _, s := range shards {
		if s.Serves(slot) {
			return s.Master, nil
		}
	}
	return nil, fmt.Errorf("redistest: no master serves slot %d", slot)
}

// Slot is CLUSTER KEYSLOT key.
func (c *Cluster) Slot(key string) (int, error) {
	for _, n := range c.Nodes() {
		if n.Running() {
			out, err := cli(n.Port, "CLUSTER", "KEYSLOT", key)
			if err != nil {
				return 0, err
			}
			return strconv.Atoi(out)
		}
	}
	return 0, errors.New("redistest: no node is running")
}

// WaitHealthy waits until every running node reports cluster_state:ok,
// knows every running node, and every running replica's link to its master
// is up (so that a master killed next can be failed over).
func (c *Cluster) WaitHealthy(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var why string
	for {
		if why = c.unhealthy(); why == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redistest: cluster not healthy within %s: %s", timeout, why)
		}
		time.Sleep(50 * time.Millisecond) // polling a condition, not waiting out a guess
	}
}

// unhealthy says what is not healthy yet, "" when nothing.
func (c *Cluster) unhealthy() string {
	running := 0
	for _, n := range c.Nodes() {
		if n.Running() {
			running++
		}
	}
	masters := 0
	for _, n := range c.Nodes() {
		if !n.Running() {
			continue
		}
		info, err := cli(n.Port, "CLUSTER", "INFO")
		if err != nil {
			return err.Error()
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return fmt.Sprintf("node %d: not cluster_state:ok", n.Port)
		}
		// A killed node is still known (as failed) until forgotten.
		if known, _ := strconv.Atoi(rkey.InfoField(info, "cluster_known_nodes")); known < running {
			return fmt.Sprintf("node %d knows %d nodes of %d", n.Port, known, running)
		}
		repl, err := cli(n.Port, "INFO", "replication")
		if err != nil {
			return err.Error()
		}
		switch rkey.InfoField(repl, "role") {
		case "master":
			masters++
		case "slave":
			if rkey.InfoField(repl, "master_link_status") != "up" {
				return fmt.Sprintf("replica %d: link to its master not up", n.Port)
			}
		}
	}
	if masters < c.cfg.Masters {
		return fmt.Sprintf("%d masters of %d", masters, c.cfg.Masters)
	}
	return ""
}

// cli runs one redis-cli command on the node at port and returns its
// trimmed output; an error reply is an error.
func cli(port int, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	argv := append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(port)}, args...)
	out, err := exec.CommandContext(ctx, "redis-cli", argv...).CombinedOutput()
	s := strings.TrimSpace(string(out))
	if err == nil && (strings.HasPrefix(s, "ERR") || strings.HasPrefix(s, "Could not connect")) {
		err = errors.New(s)
	}
	if err != nil {
		return "", fmt.Errorf("redistest: redis-cli -p %d %s: %v: %s", port, strings.Join(args, " "), err, s)
	}
	return s, nil
}

// freePorts picks n free loopback ports of portLow..portHigh.
func freePorts(n int) ([]int, error) { return proctest.FreePortsIn(n, portLow, portHigh) }
