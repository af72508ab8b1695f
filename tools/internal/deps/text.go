package deps

import (
	"bufio"
	"fmt"
	"io"
	"sort"
)

// WriteText writes c the way ldd prints, without load addresses: per
// program, one tab-indented line per library in load order,
// "name => path", just the path when the name is that path (the
// interpreter), and "name => not found" (or "name => error: reason")
// where ld.so would fail. With several programs each list is headed by
// "path:", as ldd does.
func WriteText(w io.Writer, c *Closure) error {
	bw := bufio.NewWriter(w)
	for _, p := range c.Programs {
		if len(c.Programs) > 1 {
			fmt.Fprintf(bw, "%s:\n", p.Path)
		}
		if p.Linkage != "dynamic" {
			fmt.Fprintf(bw, "\tstatically linked (%s)\n", p.Linkage)
			continue
		}
		type line struct {
			seq  int
			text string
		}
		var lines []line
		for _, l := range p.Libraries {
			t := l.Name + " => " + l.Path
			if l.Name == l.Path {
				t = l.Path
			}
			lines = append(lines, line{l.seq, t})
		}
		for _, m := range p.Missing {
			t := m.Name + " => not found"
			if m.Reason != "not found" {
				t = m.Name + " => error: " + m.Reason
			}
			lines = append(lines, line{m.seq, t})
		}
		sort.SliceStable(lines, func(i, j int) bool { return lines[i].seq < lines[j].seq })
		for _, l := range lines {
			fmt.Fprintf(bw, "\t%s\n", l.text)
		}
	}
	return bw.Flush()
}
