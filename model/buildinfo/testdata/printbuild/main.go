// Command printbuild prints the build's provenance as buildinfo reports it;
// buildinfo's tests build it with and without -ldflags.
package main

import (
	"fmt"

	"sscscore/model/buildinfo"
)

func main() {
	fmt.Printf("%s\n%s\n%s\n", buildinfo.Version(), buildinfo.Commit(), buildinfo.String())
}
