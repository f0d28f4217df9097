package report

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/chatterly/chatterly/loadtest/hist"
)

// Markdown renders the human report. Paths inside it are relative to the
// bench folder, where REPORT.md lives.
func Markdown(r *Run) []byte {
	var b bytes.Buffer
	m := r.Machine
	fmt.Fprintf(&b, "# Chatterly bench report\n\n")
	fmt.Fprintf(&b, "Run `%s` (%s mode), %s to %s UTC, commit `%s`%s. ", r.ID, r.Mode,
		r.Started.Format("2006-01-02 15:04:05"), r.Finished.Format("15:04:05"), short(m.Commit), dirty(m.Dirty))
	fmt.Fprintf(&b, "Machine: %d cores (%s), %d MiB, Linux %s, %s, open-files limit %d, load average %.2f at start. ",
		m.Cores, m.CPU, m.MemoryMiB, m.Kernel, m.GoVersion, m.OpenFiles, m.Load1)
	fmt.Fprintf(&b, "Raw figures: [`results/%s.json`](results/%s.json). Made by `make bench`.\n\n", r.ID, r.ID)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
	}

	b.WriteString("## Targets\n\n")
	b.WriteString("| what | original target | our target | measured | verdict |\n|---|---|---|---|---|\n")
	for _, t := range r.Targets {
		meas := t.Measured
		if t.NotMeasured != "" {
			meas = "not measured: " + t.NotMeasured
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(t.What), cell(t.Original), cell(t.Ours), cell(meas), t.Verdict())
	}
	b.WriteString("\n")

	var fails []Target
	for _, t := range r.Targets {
		if t.Verdict() == "FAIL" && t.NotMeasured == "" {
			fails = append(fails, t)
		}
	}
	if len(fails) > 0 {
		b.WriteString("### Where the time or memory goes (FAIL rows)\n\n")
		for _, t := range fails {
			fmt.Fprintf(&b, "- **%s**: %s", t.What, orDash(t.Where))
			if t.Profile != "" {
				fmt.Fprintf(&b, "; profile: [`%s`](%s)", t.Profile, t.Profile)
			}
			b.WriteString("\n")
			for _, l := range []string{t.Slowest, t.Waits} {
				if l != "" {
					fmt.Fprintf(&b, "  - %s\n", l)
				}
			}
			if t.Next != "" {
				fmt.Fprintf(&b, "  - next step: %s\n", t.Next)
			}
		}
		b.WriteString("\n")
	}

	if len(r.Figures) > 0 {
		b.WriteString("## Reported figures (no target of their own)\n\n| what | figure | note |\n|---|---|---|\n")
		for _, f := range r.Figures {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", cell(f.What), cell(f.Value), cell(f.Note))
		}
		b.WriteString("\n")
	}

	b.WriteString("## Scenarios\n\n")
	b.WriteString("Latency is measured from each operation's intended start on a fixed-rate schedule (open model: a late start counts against the latency); `service` is from its actual start. p50/p99/p999/max in milliseconds.\n\n")
	for _, s := range r.Scenarios {
		fmt.Fprintf(&b, "### %s (`%s`)\n\n", s.Title, s.Name)
		if s.NotMeasured != "" {
			fmt.Fprintf(&b, "Not measured: %s\n\n", s.NotMeasured)
			continue
		}
		b.WriteString("| step | rate/s | s | due | done | failed | unsent | throughput/s | p50 | p99 | p999 | max | service p99 | other |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, st := range s.Steps {
			l := st.Latency
			svc := "–"
			if st.Service != nil {
				svc = ms(st.Service.P99)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %d | %d | %.0f | %s | %s | %s | %s | %s | %s |\n",
				cell(st.Label), num(st.Rate), num(st.Seconds), st.Due, st.Done, st.Failed, st.Unsent, st.Throughput,
				msIf(l), msP(l, l.P99), msP(l, l.P999), msP(l, l.Max), svc, cell(extras(st.Extra)))
		}
		if s.Error != "" {
			fmt.Fprintf(&b, "\nThe scenario stopped on an error: `%s`\n", strings.ReplaceAll(s.Error, "`", "'"))
		}
		for _, st := range s.Steps {
			if st.FirstError != "" {
				fmt.Fprintf(&b, "\nFirst error of step %s: `%s`\n", st.Label, strings.ReplaceAll(st.FirstError, "`", "'"))
			}
		}
		if s.Plot != "" {
			fmt.Fprintf(&b, "\n![%s latency distribution](results/%s)\n", s.Title, s.Plot)
		}
		b.WriteString("\n")
	}

	if len(r.Estimate) > 0 {
		b.WriteString("## 1,000,000 sockets, estimated\n\nAn estimate by arithmetic from the figures measured above, not a measurement.\n\n")
		for _, l := range r.Estimate {
			fmt.Fprintf(&b, "- %s\n", l)
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

func extras(m map[string]float64) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + num(m[k])
	}
	return strings.Join(parts, ", ")
}

// num prints a figure with the precision it deserves.
func num(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v == float64(int64(v)):
		return fmt.Sprintf("%d", int64(v))
	case v >= 100 || v <= -100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1 || v <= -1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.4f", v)
	}
}

// ms prints nanoseconds as milliseconds.
func ms(ns int64) string { return fmt.Sprintf("%.3f", hist.Millis(ns)) }

func msIf(s hist.Summary) string { return msP(s, s.P50) }

func msP(s hist.Summary, ns int64) string {
	if s.Count == 0 {
		return "–"
	}
	return ms(ns)
}

func cell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ") }

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func short(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

func dirty(d bool) string {
	if d {
		return " plus uncommitted changes in the work tree"
	}
	return ""
}
