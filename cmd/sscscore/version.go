package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"

	"sscscore/model/buildinfo"
	"sscscore/model/cascade"
)

func init() {
	register(command{
		name:    "version",
		summary: "print the build (version, commit), the Go version and the shipped weights' SHA-256",
		run:     runVersion,
	})
}

// versionInfo is what `sscscore version --json` prints.
type versionInfo struct {
	buildinfo.Info
	Platform string `json:"platform"`
	// Weights are the SHA-256 of the shipped networks' weights, as every
	// result's "model" names them.
	Weights struct {
		Levels string `json:"levels"`
		Scores string `json:"scores"`
	} `json:"weights"`
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the build as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("version takes no arguments (got %q)", fs.Args())
	}
	c, err := cascade.Default()
	if err != nil {
		return fmt.Errorf("version: %w", err)
	}
	info := c.Info()
	v := versionInfo{Info: info.Build, Platform: runtime.GOOS + "/" + runtime.GOARCH}
	v.Weights.Levels, v.Weights.Scores = info.Levels.SHA256, info.Scores.SHA256
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	fmt.Fprintf(stdout, "sscscore %s\ncommit   %s\ngo       %s %s\nweights  levels sha256:%s\n         scores sha256:%s\n",
		v.Version, v.Commit, v.Go, v.Platform, v.Weights.Levels, v.Weights.Scores)
	return nil
}
