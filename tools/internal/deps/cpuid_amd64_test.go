package deps

import (
	"os"
	"strings"
	"testing"
)

// TestHostX86Flags checks CPUID against the kernel's view: every feature
// /proc/cpuinfo lists is one the CPU reports too (the kernel only hides
// features, e.g. "abm" on some AMD guests), and the baseline is there.
func TestHostX86Flags(t *testing.T) {
	vendor, flags, ok := hostX86Flags()
	if !ok || vendor == "" {
		t.Fatalf("no CPUID answer on amd64: %q %v", vendor, ok)
	}
	for _, f := range x86Baseline {
		if !flags[f] {
			t.Errorf("baseline feature %s missing from CPUID: %v", f, flags)
		}
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	must(t, err)
	fields := cpuinfoFields(info)
	if fields["vendor_id"] != vendor {
		t.Errorf("vendor: CPUID %q, /proc/cpuinfo %q", vendor, fields["vendor_id"])
	}
	listed := map[string]bool{}
	for _, f := range strings.Fields(fields["flags"]) {
		listed[f] = true
	}
	for _, b := range cpuidBits {
		if listed[b.name] && !flags[b.name] {
			t.Errorf("/proc/cpuinfo lists %s but CPUID (with XCR0) does not", b.name)
		}
	}
}
