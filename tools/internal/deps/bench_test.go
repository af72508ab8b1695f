package deps

import "testing"

// BenchmarkResolveUsrBin resolves the closure of every dynamic executable
// in /usr/bin with a fresh Resolver per iteration (nothing cached in the
// process; the kernel's page cache is warm after the first round).
// tests/bench/deps.sh compares the same work with running ldd on each.
func BenchmarkResolveUsrBin(b *testing.B) {
	files := dynamicExecutables(b, "/usr/bin")
	b.ReportMetric(float64(len(files)), "programs")
	for b.Loop() {
		c, err := Resolve("/", files, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(c.Programs) != len(files) {
			b.Fatal("lost programs")
		}
	}
}

// BenchmarkResolveOneProgram is the cost of one typical program.
func BenchmarkResolveOneProgram(b *testing.B) {
	for b.Loop() {
		if _, err := Resolve("/", []string{"/usr/bin/ls"}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
