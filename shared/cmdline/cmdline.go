// Package cmdline is what every Chatterly binary answers before it reads
// its configuration: --help and --version, which print to standard output
// and exit 0 without touching the environment, and the choice of the
// subcommand, refusing one it does not know. Configuration itself comes
// from environment variables only (shared/config); print-config shows it.
package cmdline

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/chatterly/chatterly/shared/buildinfo"
	"github.com/chatterly/chatterly/shared/config"
)

// Command is one subcommand of a binary.
type Command struct {
	// Name is what the operator types; "" is the binary run bare.
	Name string
	// Flags are the arguments the subcommand accepts after its name.
	Flags []string
	// Usage says what it does, on one line.
	Usage string
}

// Program describes one binary for its help text.
type Program struct {
	Name     string // chatterly-api
	Summary  string // what the binary is, one paragraph
	Commands []Command
}

// PrintConfig is the subcommand every long-running binary has: it prints
// the configuration the binary would run with, read from the environment
// as at start, with secrets masked, and exits (2 when it is invalid).
var PrintConfig = Command{Name: "print-config",
	Usage: "print the effective configuration (environment and defaults, secrets masked) as NAME=value lines and exit"}

// Parse reads the arguments after the program name. When it answers by
// itself (--help, --version, or an argument it refuses) it has written the
// answer and returns done with the exit code; otherwise it returns the
// subcommand and its arguments for the caller to run.
func (p Program) Parse(args []string, stdout, stderr io.Writer) (cmd string, rest []string, done bool, code int) {
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help", "help":
			p.Help(stdout)
			return "", nil, true, 0
		case "-version", "--version", "version":
			fmt.Fprintf(stdout, "%s %s\n", p.Name, buildinfo.Get())
			return "", nil, true, 0
		}
		cmd, rest = args[0], args[1:]
	}
	for _, c := range p.Commands {
		if c.Name != cmd {
			continue
		}
		for _, a := range rest {
			if !slices.Contains(c.Flags, a) {
				fmt.Fprintf(stderr, "%s: %s does not take %q (run %s --help)\n", p.Name, display(cmd), a, p.Name)
				return "", nil, true, 2
			}
		}
		return cmd, rest, false, 0
	}
	fmt.Fprintf(stderr, "%s: unknown command %q (run %s --help)\n", p.Name, cmd, p.Name)
	return "", nil, true, 2
}

// Help writes the usage text.
func (p Program) Help(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s [command]\n\n%s\n\nCommands:\n", p.Name, p.Summary)
	rows := [][2]string{}
	for _, c := range p.Commands {
		rows = append(rows, [2]string{strings.TrimSpace(display(c.Name) + " " + strings.Join(brackets(c.Flags), " ")), c.Usage})
	}
	rows = append(rows, [2]string{"-h, --help", "print this text and exit"},
		[2]string{"--version", "print the version, VCS revision and Go version and exit"})
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  %s\n", width, r[0], r[1])
	}
	fmt.Fprintf(w, "\nSettings come from environment variables only (README.md, Configuration);\n"+
		"%s print-config shows the ones in effect.\n", p.Name)
}

func display(name string) string {
	if name == "" {
		return "(no command)"
	}
	return name
}

func brackets(flags []string) []string {
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = "[" + f + "]"
	}
	return out
}

// PrintEffective is print-config: it runs the binary's configuration
// loader on the process environment and writes every variable the loader
// read, with the value in effect, to w (config.Env.Print). An invalid
// configuration is written to stderr too, and the exit code is then 2, as
// at start.
func PrintEffective[T any](name string, load func(*config.Env) (T, error), w, stderr io.Writer) int {
	e := config.FromOS()
	_, err := load(e)
	if perr := e.Print(w); perr != nil {
		fmt.Fprintln(stderr, name+":", perr)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, name+":", err)
		return 2
	}
	return 0
}
