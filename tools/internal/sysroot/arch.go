package sysroot

import (
	"fmt"
	"slices"
	"strings"
)

// Arch describes a Debian architecture: its multiarch triplet and where
// its dynamic loader lives on a merged-/usr system.
type Arch struct {
	Name    string // Debian name, e.g. amd64
	Triplet string // multiarch tuple, e.g. x86_64-linux-gnu
	// Loader is the canonical loader path relative to the root, the one
	// PT_INTERP names in binaries built for this architecture.
	Loader string
}

// Arches lists the architectures this tool can build sysroots for.
func Arches() []Arch {
	return []Arch{
		{"amd64", "x86_64-linux-gnu", "lib64/ld-linux-x86-64.so.2"},
		{"arm64", "aarch64-linux-gnu", "lib/ld-linux-aarch64.so.1"},
		{"armel", "arm-linux-gnueabi", "lib/ld-linux.so.3"},
		{"armhf", "arm-linux-gnueabihf", "lib/ld-linux-armhf.so.3"},
		{"i386", "i386-linux-gnu", "lib/ld-linux.so.2"},
		{"loong64", "loongarch64-linux-gnu", "lib64/ld-linux-loongarch-lp64d.so.1"},
		{"ppc64el", "powerpc64le-linux-gnu", "lib64/ld64.so.2"},
		{"riscv64", "riscv64-linux-gnu", "lib/ld-linux-riscv64-lp64d.so.1"},
		{"s390x", "s390x-linux-gnu", "lib/ld64.so.1"},
	}
}

// LookupArch finds the architecture called name.
func LookupArch(name string) (Arch, error) {
	var names []string
	for _, a := range Arches() {
		if a.Name == name {
			return a, nil
		}
		names = append(names, a.Name)
	}
	slices.Sort(names)
	return Arch{}, fmt.Errorf("unknown architecture %q; known: %s", name, strings.Join(names, ", "))
}
