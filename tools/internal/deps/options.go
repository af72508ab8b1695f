package deps

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/rules-portable/rules_portable/tools/internal/elf"
)

// CacheMode says what plays the part of /etc/ld.so.cache, the step ld.so
// takes after DT_RUNPATH and before its default directories.
type CacheMode uint8

const (
	// CacheAuto reads the root's /etc/ld.so.cache when it exists (what
	// ld.so does) and otherwise emulates a cache freshly built by ldconfig
	// from the root's /etc/ld.so.conf, as CacheConf does. Sysroots
	// unpacked from packages usually have no cache.
	CacheAuto CacheMode = iota
	// CacheFile reads the root's /etc/ld.so.cache and fails if it is
	// missing or corrupt.
	CacheFile
	// CacheConf ignores any cache file and emulates the cache ldconfig
	// would write from the root's /etc/ld.so.conf (with its includes) and
	// ldconfig's built-in /lib and /usr/lib: glibc-hwcaps variants first,
	// then the first directory, in ldconfig's order, holding the name.
	CacheConf
	// CacheNone skips the step, like ld.so --inhibit-cache.
	CacheNone
)

func (m CacheMode) String() string {
	switch m {
	case CacheAuto:
		return "auto"
	case CacheFile:
		return "file"
	case CacheConf:
		return "conf"
	case CacheNone:
		return "none"
	}
	return fmt.Sprintf("CacheMode(%d)", uint8(m))
}

// ParseCacheMode parses "auto", "file", "conf" or "none".
func ParseCacheMode(s string) (CacheMode, error) {
	for m := CacheAuto; m <= CacheNone; m++ {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("ld.so cache mode %q: want auto, file, conf or none", s)
}

// LegacyMode says whether the legacy hardware-capability subdirectories
// (tls/, x86_64/, haswell/, ... under every library directory) are
// searched. glibc searched them up to 2.36 and dropped them in 2.37.
type LegacyMode uint8

const (
	// LegacyAuto searches them when the program's interpreter is a glibc
	// older than 2.37 (read from the loader's version banner).
	LegacyAuto LegacyMode = iota
	// LegacyOn always searches them.
	LegacyOn
	// LegacyOff never searches them.
	LegacyOff
)

func (m LegacyMode) String() string {
	switch m {
	case LegacyAuto:
		return "auto"
	case LegacyOn:
		return "on"
	case LegacyOff:
		return "off"
	}
	return fmt.Sprintf("LegacyMode(%d)", uint8(m))
}

// ParseLegacyMode parses "auto", "on" or "off".
func ParseLegacyMode(s string) (LegacyMode, error) {
	for m := LegacyAuto; m <= LegacyOff; m++ {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("legacy hwcaps mode %q: want auto, on or off", s)
}

// CPU describes the processor whose ld.so is emulated. The zero value is
// a baseline CPU: no glibc-hwcaps subdirectory is searched and $PLATFORM
// is the machine's usual AT_PLATFORM. Fixing it keeps results the same on
// every build machine; HostCPU reads this machine's.
type CPU struct {
	// HWCaps are the glibc-hwcaps subdirectories the CPU supports, in
	// ld.so's priority order, e.g. [x86-64-v3 x86-64-v2].
	HWCaps []string
	// Platform is what $PLATFORM expands to and the platform part of the
	// legacy subdirectories; "" means the machine's usual AT_PLATFORM
	// (x86_64, i686, aarch64, v7l), and stays unknown for others.
	Platform string
	// LegacyHWCap are the legacy AT_HWCAP names glibc < 2.37 combined
	// into subdirectories; nil means the machine's default (x86_64:
	// [x86_64]).
	LegacyHWCap []string
}

// HostCPU describes this machine's processor as glibc 2.36's ld.so on
// x86_64 sees it: the x86-64-vN levels it supports and, on Intel CPUs, the
// "haswell" or "xeon_phi" platform and the "avx512_1" capability that
// glibc derives from the CPU features. Like ld.so it asks the CPU itself
// (CPUID, and XGETBV for the register state the kernel enables), not
// /proc/cpuinfo: a kernel or hypervisor may leave a flag out of that text
// (seen: "abm", LZCNT, on an AMD guest whose ld.so uses x86-64-v3). On
// other architectures it returns the zero CPU.
func HostCPU() (CPU, error) {
	vendor, flags, ok := hostX86Flags()
	if !ok {
		return CPU{}, nil
	}
	return cpuFromFlags(vendor, flags), nil
}

// CPUFromCPUInfo is HostCPU for given /proc/cpuinfo text (its flag names).
// Text without an x86 "flags" line gives the zero CPU.
func CPUFromCPUInfo(cpuinfo []byte) (CPU, error) {
	fields := cpuinfoFields(cpuinfo)
	flagLine, ok := fields["flags"]
	if !ok {
		return CPU{}, nil
	}
	flags := map[string]bool{}
	for _, f := range strings.Fields(flagLine) {
		flags[f] = true
	}
	return cpuFromFlags(fields["vendor_id"], flags), nil
}

// cpuFromFlags is the CPU glibc 2.36 derives from the vendor and the
// features, named as /proc/cpuinfo names them.
func cpuFromFlags(vendor string, flags map[string]bool) CPU {
	c := CPU{HWCaps: x86HWCaps(flags)}
	if vendor != "GenuineIntel" {
		return c
	}
	all := func(names ...string) bool {
		for _, n := range names {
			if !flags[n] {
				return false
			}
		}
		return true
	}
	// sysdeps/x86/cpu-features.c (glibc 2.36), x86_64 on Intel.
	hw := []string{"x86_64"}
	if flags["avx512cd"] {
		if flags["avx512er"] {
			if flags["avx512pf"] {
				c.Platform = "xeon_phi"
			}
		} else if all("avx512bw", "avx512dq", "avx512vl") {
			hw = append(hw, "avx512_1")
		}
	}
	if c.Platform == "" && all("avx2", "fma", "bmi1", "bmi2", "abm", "movbe", "popcnt") {
		c.Platform = "haswell"
	}
	c.LegacyHWCap = hw
	return c
}

// cpuinfoFields returns the "key: value" pairs of the first processor.
func cpuinfoFields(cpuinfo []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(cpuinfo))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" && len(out) > 0 {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if _, dup := out[k]; !dup {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

// Options control how a closure is resolved. The zero value emulates
// Debian's ld.so on a baseline CPU, with no LD_LIBRARY_PATH, using the
// root's ld.so.cache when it has one and its ld.so.conf otherwise.
type Options struct {
	// LibraryPath is an LD_LIBRARY_PATH value (directories inside the
	// root, separated by ':' or ';', with $ORIGIN meaning the program's
	// directory), searched after DT_RPATH. "" means unset.
	LibraryPath string
	// Cache selects what stands for /etc/ld.so.cache.
	Cache CacheMode
	// CPU is the processor to emulate (glibc-hwcaps, $PLATFORM).
	CPU CPU
	// Legacy controls the pre-2.37 legacy hwcap subdirectories.
	Legacy LegacyMode
	// Lib is what $LIB expands to; "" means Debian's "lib/<multiarch
	// tuple>" (lib/x86_64-linux-gnu).
	Lib string
	// DefaultDirs replace ld.so's built-in trusted directories (see
	// DefaultDirs) when non-nil.
	DefaultDirs []string
	// WorkDir is the in-root directory relative paths are taken from (the
	// process's working directory for ld.so); "" means "/".
	WorkDir string
	// Jobs bounds how many programs are resolved in parallel; 0 means one
	// per CPU.
	Jobs int
	// Parsed holds files the caller has parsed already, by device and
	// inode: the resolver takes these parses instead of reading the files
	// again. It is read, never written, while the resolver runs; only a
	// parse of the file's current content belongs here.
	Parsed map[FileID]*elf.File
	// Symlinks is the root's own record of its symbolic links: each
	// link's target as the link holds it, by in-root path ("/lib" ->
	// "usr/lib"), as a sysroot's manifest lists them. A path it names is
	// followed as recorded whatever stands there on disk, so a root whose
	// links a build tool materialised as copies (a directory, a file)
	// resolves to the same canonical paths as the root itself; other paths
	// are looked up on disk. nil means the disk alone. Like Parsed, it is
	// read, never written.
	Symlinks map[string]string
	// Tree, when non-nil, is the whole root, given in memory instead of
	// read from the directory: every in-root path ("/", "/lib",
	// "/lib/libc.so.6") with its type, link target, identity and content.
	// A path it lacks does not exist, and nothing under the root's
	// directory is read (the directory need not exist). The bundler checks
	// a bundle it streams straight into an archive this way. Like Parsed,
	// it is read, never written.
	Tree map[string]TreeNode
}
