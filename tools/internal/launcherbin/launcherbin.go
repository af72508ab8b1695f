// Package launcherbin holds the prebuilt launcher that a bundle puts at
// bin/NAME, as bytes embedded in the portable CLI.
//
// The launcher is the freestanding C program in launcher/ (see
// launcher/README.md for what it does and the bundle layout it expects). The
// bytes here are exactly what `launcher/build.sh --arch x86_64` produces with
// Debian 12's gcc 12; a test rebuilds it from source and compares, so the
// embedded copy can't drift from the source. Bazel builds the same source
// with its own cc toolchain.
package launcherbin

import (
	"debug/elf"
	"embed"
	"fmt"
)

//go:embed launcher_amd64
var files embed.FS

// MaxSize is the size budget of a launcher in bytes.
const MaxSize = 16 << 10

// fileFor names the embedded launcher for programs of machine m.
func fileFor(m elf.Machine) (string, bool) {
	switch m {
	case elf.EM_X86_64:
		return "launcher_amd64", true
	}
	return "", false
}

// Machines lists the ELF machines that have an embedded launcher.
func Machines() []elf.Machine {
	return []elf.Machine{elf.EM_X86_64}
}

// ForMachine returns a copy of the launcher for programs of machine m.
func ForMachine(m elf.Machine) ([]byte, error) {
	name, ok := fileFor(m)
	if !ok {
		hint := ""
		if m == elf.EM_AARCH64 {
			hint = "; the source builds for aarch64 (launcher/build.sh --arch aarch64) but is not embedded yet"
		}
		return nil, fmt.Errorf("launcher for %v: none built in, only %v%s", m, Machines(), hint)
	}
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("launcher for %v: read embedded %s: %w", m, name, err)
	}
	return b, nil
}
