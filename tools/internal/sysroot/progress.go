package sysroot

import (
	"fmt"
	"io"
	"sync"
)

// Progress prints what a long step is doing. Phase lines always go out;
// item lines (one per download or package) only when Verbose is set,
// which callers do when the stream is a terminal.
type Progress struct {
	W       io.Writer
	Verbose bool
	mu      sync.Mutex
}

// Phasef prints one line for a phase of the work.
func (p *Progress) Phasef(format string, args ...any) {
	if p == nil || p.W == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.W, format+"\n", args...)
}

// Itemf prints one line for an item when Verbose is set.
func (p *Progress) Itemf(format string, args ...any) {
	if p == nil || !p.Verbose {
		return
	}
	p.Phasef("  "+format, args...)
}

// humanSize formats a byte count with a binary unit.
func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
