// Command golauncher is the launcher's fast path written in Go, for the
// benchmark in tests/bench/launcher.sh only: find the bundle from
// /proc/self/exe, check the real ELF's PT_INTERP slot, exec it.
package main

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

func main() {
	self, err := os.Readlink("/proc/self/exe")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(127)
	}
	root := filepath.Dir(filepath.Dir(self))
	prog := filepath.Join(root, "libexec", "hello")
	want := filepath.Join(root, "lib", "ld-linux-x86-64.so.2")
	f, err := elf.Open(prog)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(127)
	}
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		slot := make([]byte, min(p.Filesz, 4096))
		if _, err := p.ReadAt(slot, 0); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(127)
		}
		if end := bytes.IndexByte(slot, 0); end < 0 || string(slot[:end]) != want {
			fmt.Fprintln(os.Stderr, "stale slot")
			os.Exit(127)
		}
		err := syscall.Exec(prog, os.Args, os.Environ())
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(127)
}
