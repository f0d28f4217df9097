package harness

import (
	"fmt"

	"github.com/chatterly/chatterly/bench/report"
)

// Summary is how a run went against DESIGN.md's targets: one line per
// target row (PASS, FAIL, or NOT MEASURED with the reason), then a count,
// and the number of rows that did not pass. A row not measured counts as
// not passing: the run did not prove it.
func Summary(run *report.Run) (lines []string, notPassed int) {
	var pass, fail, unmeasured int
	for _, t := range run.Targets {
		switch {
		case t.NotMeasured != "":
			unmeasured++
			lines = append(lines, fmt.Sprintf("NOT MEASURED  %s: %s", t.What, t.NotMeasured))
		case t.Pass:
			pass++
			lines = append(lines, fmt.Sprintf("PASS  %s: %s", t.What, t.Measured))
		default:
			fail++
			lines = append(lines, fmt.Sprintf("FAIL  %s: %s (target %s)", t.What, t.Measured, t.Ours))
		}
	}
	lines = append(lines, fmt.Sprintf("%d of %d targets pass, %d fail, %d not measured", pass, len(run.Targets), fail, unmeasured))
	return lines, fail + unmeasured
}
