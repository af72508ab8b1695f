// Command tarwriter is the archive writer behind `portable bundle --tar` and
// `portable sysroot build --tar`, alone: it packs one directory into a
// deterministic .tar, .tar.gz or .tar.zst. tests/bench/tar.sh times it
// against rules_pkg's pkg_tar writer on the same files.
//
//	tarwriter DIR OUT
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/rules-portable/rules_portable/tools/internal/archive"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "tarwriter:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: tarwriter DIR OUT(.tar|.tar.gz|.tar.zst)")
	}
	return archive.Create(args[1], args[0], archive.Options{})
}
