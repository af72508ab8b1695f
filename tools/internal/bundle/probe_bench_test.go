package bundle

import (
	"path/filepath"
	"testing"
)

// BenchmarkProbe: planning glibc's gconv modules (255 small ELF files on
// Debian 12), one open and one parse each, as --gconv does.
func BenchmarkProbe(b *testing.B) {
	files, _ := filepath.Glob("/usr/lib/x86_64-linux-gnu/gconv/*.so")
	if len(files) == 0 {
		b.Skip("no gconv modules on this machine")
	}
	bl := &builder{}
	b.ResetTimer()
	for range b.N {
		for i, pr := range bl.probeAll(files) {
			if pr.err != nil || pr.f == nil {
				b.Fatalf("%s: %v", files[i], pr.err)
			}
		}
	}
}
