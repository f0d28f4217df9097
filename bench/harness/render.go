package harness

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/chatterly/chatterly/bench/report"
	"github.com/chatterly/chatterly/bench/scenario"
)

// Render writes a run's report again from its JSON, judging its recorded
// figures with the targets code of checkout's current commit: for a fix to
// how the report reads, not to what was measured (nothing is re-measured).
// A note in the report says so. It returns the files written.
func Render(checkout, jsonPath, outDir string) ([]string, error) {
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		return nil, err
	}
	var run report.Run
	if err := json.Unmarshal(b, &run); err != nil {
		return nil, fmt.Errorf("harness: %s: %w", jsonPath, err)
	}
	run.Targets = scenario.Targets(&run)
	run.Figures = scenario.Figures(&run)
	run.Estimate = scenario.Estimate(&run)
	if now := report.Describe(checkout).Commit; now != run.Machine.Commit {
		run.Notes = append(run.Notes, fmt.Sprintf("This report was rendered again from the run's JSON at commit %.12s (targets, figures and estimate judged by that commit's code; the measurements are the run's own).", now))
	}
	return report.Write(outDir, &run)
}
