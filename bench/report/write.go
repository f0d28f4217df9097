package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Write puts the run's files under dir (the bench folder, or a scratch
// folder for smoke runs): results/<id>.json, results/<id>-<scenario>.svg
// for every scenario with a latency distribution, and REPORT.md. It
// returns the paths written.
func Write(dir string, r *Run) ([]string, error) {
	res := filepath.Join(dir, "results")
	if err := os.MkdirAll(res, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, s := range r.Scenarios {
		svg := PlotSVG(s)
		if svg == nil {
			continue
		}
		s.Plot = fmt.Sprintf("%s-%s.svg", r.ID, s.Name)
		p := filepath.Join(res, s.Plot)
		if err := os.WriteFile(p, svg, 0o644); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return paths, err
	}
	jp := filepath.Join(res, r.ID+".json")
	if err := os.WriteFile(jp, append(b, '\n'), 0o644); err != nil {
		return paths, err
	}
	paths = append(paths, jp)
	mp := filepath.Join(dir, "REPORT.md")
	if err := os.WriteFile(mp, Markdown(r), 0o644); err != nil {
		return paths, err
	}
	return append(paths, mp), nil
}
