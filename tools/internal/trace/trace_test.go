package trace

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/rules-portable/rules_portable/tools/internal/manifest"
)

const sample = `search libz.so.1
object /b/lib/libc.so.6
object /b/libexec/app
search libz.so.1
search libmissing.so.2
host /usr/lib/x86_64-linux-gnu/libGL.so.1
refused /usr/lib/x86_64-linux-gnu/sasl2/libplain.so
mapped /b/lib/libc.so.6
mapped /usr/lib/locale/locale-archive
mapped /home/u/data.bin
`

func TestParseNormaliseCompare(t *testing.T) {
	r, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Lines) != 9 {
		t.Fatalf("%d lines, want 9 (one duplicate dropped): %v", len(r.Lines), r.Lines)
	}
	r.Normalise("/b")
	var buf bytes.Buffer
	r.Format(&buf)
	if !strings.Contains(buf.String(), "object lib/libc.so.6\n") || !strings.Contains(buf.String(), "host /usr/lib/x86_64-linux-gnu/libGL.so.1\n") {
		t.Errorf("normalised:\n%s", buf.String())
	}
	m := &manifest.Manifest{Files: []manifest.Entry{{Path: "lib/libc.so.6"}, {Path: "libexec/app"}, {Path: "lib/libz.so.1"}, {Path: "lib/libm.so.6"}}}
	objects := map[string]bool{"lib/libc.so.6": true, "libexec/app": true, "lib/libz.so.1": true, "lib/libm.so.6": true}
	d := Compare(m, objects, r)
	want := Diff{
		Host:     []string{"/usr/lib/x86_64-linux-gnu/libGL.so.1"},
		Refused:  []string{"/usr/lib/x86_64-linux-gnu/sasl2/libplain.so"},
		Missing:  []string{"libmissing.so.2"},
		HostData: []string{"/usr/lib/locale/locale-archive"},
		Unused:   []string{"lib/libm.so.6", "lib/libz.so.1"},
		Loaded:   2,
	}
	if fmt.Sprint(d) != fmt.Sprint(want) || !d.Drift() {
		t.Errorf("Compare:\n got %+v\nwant %+v", d, want)
	}
	clean := Compare(m, objects, &Record{Lines: []Line{{Object, "lib/libc.so.6"}, {Search, "libc.so.6"}}})
	if clean.Drift() || clean.Loaded != 1 {
		t.Errorf("a run inside the closure: %+v", clean)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, in := range []string{
		"object ../outside.so\n",
		"object lib/../../x.so\n",
		"search /abs/name.so\n",
		"loaded /x\n",
		"object\n",
		"object \n",
		"object /x\x00y\n",
		"object /\xff\n",
		"object /" + strings.Repeat("a", MaxLine) + "\n",
	} {
		if _, err := Parse(strings.NewReader(in)); err == nil {
			t.Errorf("Parse(%q) succeeded", in)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("search a\nobject /b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := r.Format(&buf); err != nil {
			t.Fatal(err)
		}
		r2, err := Parse(&buf)
		if err != nil || fmt.Sprint(r2.Lines) != fmt.Sprint(r.Lines) {
			t.Fatalf("format/parse round trip: %v\n%v\n%v", err, r.Lines, r2)
		}
		r.Normalise("/b")
		Compare(&manifest.Manifest{}, nil, r)
	})
}
