package elf

import "strings"

// CompareVersions orders symbol version names such as "GLIBC_2.9",
// "GLIBC_2.34" and "GLIBCXX_3.4.30". It returns -1, 0 or +1.
//
// A name splits into a prefix and a trailing run of dot-separated numbers
// ("GLIBC_" and "2.34"). Prefixes compare as strings; equal prefixes
// compare their numbers one component at a time, numerically, so
// GLIBC_2.9 < GLIBC_2.34, and a missing component sorts first
// (GLIBC_2.3 < GLIBC_2.3.4). A name without trailing numbers (GLIBC_PRIVATE)
// has an empty number list.
func CompareVersions(a, b string) int {
	pa, na := splitVersion(a)
	pb, nb := splitVersion(b)
	if c := strings.Compare(pa, pb); c != 0 {
		return c
	}
	for i := 0; i < len(na) && i < len(nb); i++ {
		if c := compareNumeric(na[i], nb[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(na) < len(nb):
		return -1
	case len(na) > len(nb):
		return 1
	}
	return 0
}

// splitVersion splits "GLIBC_2.34" into "GLIBC_" and ["2", "34"].
func splitVersion(v string) (string, []string) {
	i := len(v)
	for i > 0 && (v[i-1] == '.' || (v[i-1] >= '0' && v[i-1] <= '9')) {
		i--
	}
	// The numeric tail must start with a digit: "GLIBC_.5" keeps ".5" in
	// the prefix's place as a plain string.
	for i < len(v) && v[i] == '.' {
		i++
	}
	if i == len(v) {
		return v, nil
	}
	return v[:i], strings.Split(strings.TrimRight(v[i:], "."), ".")
}

// compareNumeric compares two digit strings of any length by value.
func compareNumeric(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// isNumericVersion reports whether s is a dotted run of numbers ("2.34").
func isNumericVersion(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		if strings.Trim(part, "0123456789") != "" {
			return false
		}
	}
	return true
}

// MaxVersion returns the highest version this file needs whose name is
// prefix, an underscore and a dotted number: MaxVersion("GLIBC") returns
// e.g. "GLIBC_2.34" and ignores GLIBC_PRIVATE, GLIBC_ABI_DT_RELR and
// GLIBCXX_*. A trailing underscore on prefix is optional. It returns "" when
// no such version is needed.
func (f *File) MaxVersion(prefix string) string {
	prefix = strings.TrimSuffix(prefix, "_") + "_"
	best := ""
	for _, vn := range f.VersionNeeds {
		for _, v := range vn.Versions {
			rest, ok := strings.CutPrefix(v, prefix)
			if !ok || !isNumericVersion(rest) {
				continue
			}
			if best == "" || CompareVersions(v, best) > 0 {
				best = v
			}
		}
	}
	return best
}
