package scenario

import (
	"fmt"
	"math"

	"github.com/chatterly/chatterly/bench/report"
)

// Estimate is the arithmetic, from the measured per-socket cost, of what
// holding 1,000,000 sockets takes. It is stated as an estimate and every
// input is named, so a reader can redo it.
func Estimate(r *report.Run) []string {
	const million = 1_000_000.0
	// The kernel's part per socket, which the edge cannot change (DESIGN.md).
	const kernelBytes = 4 * 1024.0
	st := measuredStep(r, "density", StepDensity)
	if st == nil {
		return []string{"Not estimated: the density scenario measured no per-socket cost, and the estimate is made only from measured figures."}
	}
	perProc := st.Extra[socketsExtra]
	perSock := st.Extra[bytesPerSockExtra]
	if perProc <= 0 {
		return []string{"Not estimated: the density scenario held no socket."}
	}
	procs := million / perProc
	user := million * perSock
	kernel := million * kernelBytes
	lines := []string{
		fmt.Sprintf("Sockets per edge process, measured: %.0f (the open-files limit %d of this machine bounds it; a host with a higher limit runs more per process).", perProc, r.Machine.OpenFiles),
		fmt.Sprintf("At that limit: ⌈1,000,000 / %.0f⌉ = %.0f edge processes.", perProc, math.Ceil(procs)),
		fmt.Sprintf("User-space memory per idle subscribed socket, measured: %.0f bytes → 1,000,000 × %.0f B = %.2f GB across the fleet.", perSock, perSock, user/1e9),
		fmt.Sprintf("Kernel memory per socket (DESIGN.md's figure, not measured here): ~4 KB → %.2f GB; total ≈ %.2f GB of RAM for the sockets themselves.", kernel/1e9, (user+kernel)/1e9),
	}
	lines = append(lines, fmt.Sprintf("Nodes, as this machine is set up (one edge process per node at its open-files limit): %.0f nodes, each holding %.0f sockets in %.0f MB of socket memory (user + kernel).",
		math.Ceil(procs), perProc, perProc*(perSock+kernelBytes)/1e6))
	if fs := measuredStep(r, "fanout", StepFanout); fs != nil && fs.Extra[cpuPerFrameExtra] > 0 {
		cpu := fs.Extra[cpuPerFrameExtra]
		lines = append(lines, fmt.Sprintf("Edge CPU per delivered frame, measured: %.2f µs. At one event per socket per 10 s (100,000 frames/s across 1,000,000 sockets): %.2f cores of edge CPU in all.", cpu, 100_000*cpu/1e6))
		// With the open-files limit raised, memory and CPU bound a node.
		mem := float64(r.Machine.MemoryMiB) * (1 << 20) / 2 / (perSock + kernelBytes)
		cores := float64(r.Machine.Cores) / 2 / (0.1 * cpu / 1e6)
		lines = append(lines, fmt.Sprintf("With the open-files limit raised (an operating-system setting), a node like this one is bounded instead by memory (half of %d MiB at %.0f B per socket: %.0f sockets) and by CPU (half of %d cores at one event per socket per 10 s: %.0f sockets): about %.0f sockets per node, so ⌈1,000,000 / that⌉ = %.0f nodes, before headroom for bursts, which this arithmetic does not model.",
			r.Machine.MemoryMiB, perSock+kernelBytes, mem, r.Machine.Cores, cores, min(mem, cores), math.Ceil(million/min(mem, cores))))
	}
	lines = append(lines, fmt.Sprintf("Redis fan-out load: every edge reads every shard stream, so each stream entry is read once per edge process: with %.0f edge processes, an event rate of E/s costs Redis %.0f·E entry reads/s (e.g. %.0f reads/s at 1,000 events/s); larger edge processes (a higher open-files limit) cut this proportionally.", math.Ceil(procs), math.Ceil(procs), math.Ceil(procs)*1000))
	return lines
}
