// Command sscscore scores systemic-sclerosis lung involvement on chest CT,
// and holds the research tools around it: inspecting DICOM folders,
// generating synthetic phantoms, training and evaluating the networks.
//
// Usage:
//
//	sscscore <command> [flags] [args]
//
// Run "sscscore help" for the list of commands.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

// A command is one sub-command of the CLI. Each lives in its own file and
// registers itself from an init function.
type command struct {
	name    string
	summary string
	// run parses args (without the command name) and does the work. It
	// writes results to stdout and diagnostics to stderr.
	run func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("sscscore: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sscscore <command> [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun \"sscscore <command> -h\" for a command's flags.")
}

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

// runMain runs the CLI with args and returns the process exit code.
func runMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "sscscore: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if err := c.run(args[1:], stdout, stderr); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		fmt.Fprintf(stderr, "sscscore %s: %v\n", c.name, err)
		return 1
	}
	return 0
}
