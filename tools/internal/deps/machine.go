package deps

import (
	"fmt"

	"github.com/rules-portable/rules_portable/tools/internal/elf"
)

// machineInfo holds what ld.so of a Debian system of one architecture
// uses when it searches for libraries.
type machineInfo struct {
	triplet  string // Debian multiarch tuple, e.g. x86_64-linux-gnu
	platform string // the kernel's usual AT_PLATFORM, "" when it depends on the CPU
	// cacheFlags are the ld.so.cache entry flags this ld.so accepts; the
	// first is _DL_CACHE_DEFAULT_ID.
	cacheFlags []int32
	// x86 is true for x86_64, where glibc-hwcaps are the x86-64-vN levels
	// and cache entries carry ISA levels.
	x86 bool
	// legacyHWCap is the legacy AT_HWCAP subdirectory name glibc < 2.37
	// searched for every object of this machine ("" for none).
	legacyHWCap string
}

// archKey identifies an ABI by class and machine.
type archKey struct {
	class   elf.Class
	machine elf.Machine
}

// machines lists the architectures whose defaults are known. The values
// come from glibc's sysdeps (ldconfig.h flags, dl-cache.h) and Debian's
// multiarch tuples; for anything else pass the directories and platform
// explicitly.
func machines() map[archKey]machineInfo {
	const libc6 = 0x0003
	return map[archKey]machineInfo{
		{elf.Class64, elf.EMX86_64}:  {triplet: "x86_64-linux-gnu", platform: "x86_64", cacheFlags: []int32{0x0300 | libc6}, x86: true, legacyHWCap: "x86_64"},
		{elf.Class32, elf.EM386}:     {triplet: "i386-linux-gnu", platform: "i686", cacheFlags: []int32{libc6, 0x0001}},
		{elf.Class64, elf.EMAARCH64}: {triplet: "aarch64-linux-gnu", platform: "aarch64", cacheFlags: []int32{0x0a00 | libc6}},
		{elf.Class32, elf.EMARM}:     {triplet: "arm-linux-gnueabihf", platform: "v7l", cacheFlags: []int32{0x0900 | libc6}},
		{elf.Class64, elf.EMRISCV}:   {triplet: "riscv64-linux-gnu", cacheFlags: []int32{0x1000 | libc6}},
		{elf.Class64, elf.EMPPC64}:   {triplet: "powerpc64le-linux-gnu", cacheFlags: []int32{0x0500 | libc6}},
		{elf.Class64, elf.EMS390}:    {triplet: "s390x-linux-gnu", cacheFlags: []int32{0x0400 | libc6}},
	}
}

func lookupMachine(c elf.Class, m elf.Machine) (machineInfo, bool) {
	mi, ok := machines()[archKey{c, m}]
	return mi, ok
}

// DefaultDirs returns the trusted directories Debian's ld.so searches last
// for objects of the given class and machine, in order. For x86_64 that is
// /lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, /lib, /usr/lib (what
// `ld.so --help` of Debian 12's glibc 2.36 lists as the system search
// path; /lib64 is not among them).
func DefaultDirs(c elf.Class, m elf.Machine) ([]string, error) {
	mi, ok := lookupMachine(c, m)
	if !ok {
		return nil, fmt.Errorf("no default library directories known for %s %s; pass them explicitly", c, m)
	}
	return []string{"/lib/" + mi.triplet, "/usr/lib/" + mi.triplet, "/lib", "/usr/lib"}, nil
}
