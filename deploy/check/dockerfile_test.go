package check

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	Stage string // the FROM ... AS name it belongs to ("" before the first)
	Cmd   string // upper case: RUN, COPY, ...
	Args  string
}

// readDockerfile splits a Dockerfile into its instructions. It knows what
// the checks need (comments, line continuations, stage names), not the
// whole syntax; a real linter runs in TestDockerfilesLint.
func readDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []instruction
	stage, cur := "", ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur == "" && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cur += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		cur += line
		cmd, args, _ := strings.Cut(cur, " ")
		cur = ""
		in := instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)}
		if in.Cmd == "FROM" {
			f := strings.Fields(in.Args)
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				stage = f[2]
			} else {
				stage = ""
			}
		}
		in.Stage = stage
		out = append(out, in)
	}
	require.NoError(t, sc.Err())
	require.Empty(t, cur, "%s ends inside a continued line", path)
	return out
}

// stageInstructions returns the instructions of one stage of d.
func stageInstructions(d []instruction, stage string) []instruction {
	var out []instruction
	for _, in := range d {
		if in.Stage == stage {
			out = append(out, in)
		}
	}
	return out
}
