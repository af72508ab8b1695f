package deps

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// X86-64 micro-architecture levels, the glibc-hwcaps subdirectory names
// glibc uses on x86_64, from the highest to the lowest.
const (
	HWCapX86_64V4 = "x86-64-v4"
	HWCapX86_64V3 = "x86-64-v3"
	HWCapX86_64V2 = "x86-64-v2"
)

// x86Levels are the CPU features glibc 2.36 requires for each level
// (sysdeps/x86/get-isa-level.h), spelled as /proc/cpuinfo flags: "pni" is
// SSE3, "abm" carries LZCNT. Each level also requires the ones below it.
var x86Levels = []struct {
	name  string
	flags []string
}{
	{HWCapX86_64V2, []string{"cx16", "lahf_lm", "popcnt", "pni", "ssse3", "sse4_1", "sse4_2"}},
	{HWCapX86_64V3, []string{"avx", "avx2", "f16c", "fma", "abm", "movbe"}},
	{HWCapX86_64V4, []string{"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}},
}

// x86Baseline are the features of x86-64 baseline (level 1).
var x86Baseline = []string{"cmov", "cx8", "fpu", "fxsr", "mmx", "sse", "sse2"}

// X86HWCapsFromCPUInfo returns the glibc-hwcaps subdirectories an x86_64
// ld.so would search on the CPU that /proc/cpuinfo text describes, in
// ld.so's priority order (highest level first), e.g.
// [x86-64-v3 x86-64-v2]. It reads the "flags" line of the first processor.
func X86HWCapsFromCPUInfo(cpuinfo []byte) ([]string, error) {
	var flags map[string]bool
	sc := bufio.NewScanner(bytes.NewReader(cpuinfo))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(k) != "flags" {
			continue
		}
		flags = map[string]bool{}
		for _, f := range strings.Fields(v) {
			flags[f] = true
		}
		break
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cpuinfo: %w", err)
	}
	if flags == nil {
		return nil, fmt.Errorf("cpuinfo: no flags line (not an x86 CPU?)")
	}
	return x86HWCaps(flags), nil
}

// x86HWCaps returns the glibc-hwcaps levels a CPU with these features
// supports, highest first; nil below the baseline or at it.
func x86HWCaps(flags map[string]bool) []string {
	have := func(fs []string) bool {
		for _, f := range fs {
			if !flags[f] {
				return false
			}
		}
		return true
	}
	if !have(x86Baseline) {
		return nil
	}
	var levels []string
	for _, l := range x86Levels {
		if !have(l.flags) {
			break
		}
		levels = append([]string{l.name}, levels...)
	}
	return levels
}

// x86ISALevelBits returns the GNU_PROPERTY_X86_ISA_1 bits (baseline = 1,
// v2 = 2, v3 = 4, v4 = 8) a CPU supporting the given glibc-hwcaps has.
func x86ISALevelBits(hwcaps []string) uint32 {
	bits := uint32(1)
	for _, h := range hwcaps {
		switch h {
		case HWCapX86_64V2:
			bits |= 2
		case HWCapX86_64V3:
			bits |= 4
		case HWCapX86_64V4:
			bits |= 8
		}
	}
	return bits
}

// ParseHWCapsList parses an explicit, comma-separated list of glibc-hwcaps
// subdirectory names in priority order ("x86-64-v3,x86-64-v2"). "none"
// (or "") is the empty list. White space around a name, or around "none",
// is ignored.
func ParseHWCapsList(s string) ([]string, error) {
	if t := strings.TrimSpace(s); t == "" || t == "none" {
		return []string{}, nil
	}
	var out []string
	seen := map[string]bool{}
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/:\x00") {
			return nil, fmt.Errorf("hwcaps %q: %q is not a glibc-hwcaps subdirectory name", s, n)
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	return out, nil
}

// LegacyHWCapDirs returns the legacy hardware-capability subdirectories
// that glibc before 2.37 searched under every library directory, in its
// order and without the directory itself (searched last). The names are
// combined from the AT_HWCAP names (hwcap), the platform and "tls"
// exactly as glibc's _dl_important_hwcaps does: every subset, from all
// names to one, "tls" first, then the platform, then the hwcap names in
// reverse. For x86_64 (hwcap x86_64, platform x86_64) that gives
// tls/x86_64/x86_64, tls/x86_64, tls/x86_64, tls, x86_64/x86_64, x86_64,
// x86_64, the list `LD_DEBUG=libs` shows on Debian 12. Duplicates are kept
// because glibc keeps them; they do not change which file is found.
func LegacyHWCapDirs(hwcap []string, platform string) []string {
	comps := append([]string{}, hwcap...)
	if platform != "" {
		comps = append(comps, platform)
	}
	comps = append(comps, "tls")
	n := len(comps)
	if n > 8 {
		n = 8 // glibc refuses longer lists; keep the output bounded
		comps = comps[len(comps)-8:]
	}
	var out []string
	for mask := (1 << n) - 1; mask > 0; mask-- {
		var parts []string
		for k := n - 1; k >= 0; k-- {
			if mask&(1<<k) != 0 {
				parts = append(parts, comps[k])
			}
		}
		out = append(out, strings.Join(parts, "/"))
	}
	return out
}
