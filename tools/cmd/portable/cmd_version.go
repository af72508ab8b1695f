package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is stamped by release builds (-ldflags "-X main.version=v1.2.3").
var version = "dev"

func runVersion(e *env, args []string) error {
	fs := newFlagSet(e, "version", "", "Print the version of this helper, the Go toolchain that built it and the platform.")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("version: takes no arguments")
	}
	v := version
	if v == "dev" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	fmt.Fprintf(e.stdout, "portable %s (%s, %s/%s)\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
