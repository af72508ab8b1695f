package elf

import "testing"

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"GLIBC_2.9", "GLIBC_2.34", -1},
		{"GLIBC_2.34", "GLIBC_2.9", 1},
		{"GLIBC_2.34", "GLIBC_2.34", 0},
		{"GLIBC_2.3", "GLIBC_2.3.4", -1},
		{"GLIBC_2.3.4", "GLIBC_2.4", -1},
		{"GLIBC_2.2.5", "GLIBC_2.3", -1},
		{"GLIBCXX_3.4.9", "GLIBCXX_3.4.30", -1},
		{"GLIBCXX_3.4.30", "GLIBCXX_3.4.29", 1},
		{"GLIBC_2.010", "GLIBC_2.9", 1},
		{"GLIBC_2.34", "GLIBCXX_3.4", 1}, // different prefixes compare as strings ("_" > "X")
		{"GLIBC_PRIVATE", "GLIBC_PRIVATE", 0},
		{"", "", 0},
		{"GLIBC_2.99999999999999999999", "GLIBC_2.100000000000000000000", -1},
	} {
		if got := CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestMaxVersion(t *testing.T) {
	f := &File{VersionNeeds: []VersionNeed{
		{File: "libc.so.6", Versions: []string{"GLIBC_2.2.5", "GLIBC_2.9", "GLIBC_PRIVATE", "GLIBC_ABI_DT_RELR", "GLIBC_2.34", "GLIBC_2.3.4"}},
		{File: "libstdc++.so.6", Versions: []string{"GLIBCXX_3.4.30", "GLIBCXX_3.4.9", "CXXABI_1.3"}},
	}}
	for prefix, want := range map[string]string{
		"GLIBC":    "GLIBC_2.34",
		"GLIBC_":   "GLIBC_2.34",
		"GLIBCXX":  "GLIBCXX_3.4.30",
		"CXXABI":   "CXXABI_1.3",
		"GCC":      "",
		"GLIBC_2.": "",
	} {
		if got := f.MaxVersion(prefix); got != want {
			t.Errorf("MaxVersion(%q) = %q, want %q", prefix, got, want)
		}
	}
}
