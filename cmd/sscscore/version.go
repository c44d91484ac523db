package main

import (
	"fmt"
	"io"
	"runtime"
)

func init() {
	register(command{
		name:    "version",
		summary: "print the program and Go versions",
		run: func(args []string, stdout, stderr io.Writer) error {
			fmt.Fprintf(stdout, "sscscore (Go %s, %s/%s)\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	})
}
