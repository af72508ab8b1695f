// Command portable is the rules_portable helper: it inspects and patches ELF
// files, resolves library closures without running anything, builds
// versioned sysroots from pinned Debian packages and packs relocatable
// bundles. Bazel rules call it as an action tool; people without Bazel run
// it directly:
//
//	portable bundle /usr/bin/curl -o curl.tar.gz
//
// main only sets up logging and hands off to run, which returns an error
// instead of exiting, so every subcommand is testable in-process.
package main

import (
	"errors"
	"fmt"
	"log"
	"os"
)

func main() {
	log.SetPrefix("portable: ")
	log.SetFlags(0)
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, errHelpShown) {
			os.Exit(0)
		}
		var ue usageError
		if errors.As(err, &ue) {
			log.Print(err)
			fmt.Fprintln(os.Stderr, "run 'portable help' for usage")
			os.Exit(2)
		}
		log.Print(err)
		os.Exit(1)
	}
}
