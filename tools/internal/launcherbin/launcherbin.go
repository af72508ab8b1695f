// Package launcherbin holds the prebuilt launcher that a bundle puts at
// bin/NAME, the rtld-audit module it puts at .portable/audit.so, and the
// runtime at the head of a single-file executable (FILE.run), as bytes
// embedded in the portable CLI.
//
// The launcher is the freestanding C program in launcher/ (see
// launcher/README.md for what it does and the bundle layout it expects). The
// bytes here are exactly what `launcher/build.sh --arch x86_64` and
// `--arch aarch64` (with --audit for the module, --run for the runtime) produce with Debian 12's gcc 12 (gcc and
// gcc-aarch64-linux-gnu); a test rebuilds both from source and compares, so
// the embedded copies can't drift from the source. Bazel builds the same
// source with its own cc toolchain for the target platform, and uses an
// embedded copy for a sysroot of another architecture.
package launcherbin

import (
	"debug/elf"
	"embed"
	"fmt"
)

//go:embed launcher_amd64 launcher_arm64 audit_amd64.so audit_arm64.so run_amd64 run_arm64
var files embed.FS

// MaxSize is the size budget of a launcher in bytes.
const MaxSize = 16 << 10

// fileFor names the embedded launcher for programs of machine m.
func fileFor(m elf.Machine) (string, bool) {
	switch m {
	case elf.EM_X86_64:
		return "launcher_amd64", true
	case elf.EM_AARCH64:
		return "launcher_arm64", true
	}
	return "", false
}

// Machines lists the ELF machines that have an embedded launcher.
func Machines() []elf.Machine {
	return []elf.Machine{elf.EM_X86_64, elf.EM_AARCH64}
}

// ForMachine returns a copy of the launcher for programs of machine m.
func ForMachine(m elf.Machine) ([]byte, error) {
	name, ok := fileFor(m)
	if !ok {
		return nil, fmt.Errorf("launcher for %v: none built in, only for %v; the launcher has no entry stub for this machine yet (launcher/arch/)", m, Machines())
	}
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("launcher for %v: read embedded %s: %w", m, name, err)
	}
	return b, nil
}

// AuditForMachine returns a copy of the rtld-audit module
// (launcher/audit.c) for programs of machine m.
func AuditForMachine(m elf.Machine) ([]byte, error) {
	name, ok := fileFor(m)
	if !ok {
		return nil, fmt.Errorf("audit module for %v: none built in, only for %v", m, Machines())
	}
	name = "audit" + name[len("launcher"):] + ".so"
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("audit module for %v: read embedded %s: %w", m, name, err)
	}
	return b, nil
}

// RunForMachine returns a copy of the single-file runtime
// (launcher/run.c) for programs of machine m.
func RunForMachine(m elf.Machine) ([]byte, error) {
	name, ok := fileFor(m)
	if !ok {
		return nil, fmt.Errorf("single-file runtime for %v: none built in, only for %v", m, Machines())
	}
	name = "run" + name[len("launcher"):]
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("single-file runtime for %v: read embedded %s: %w", m, name, err)
	}
	return b, nil
}
