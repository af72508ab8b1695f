package glibcdata

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
)

var hostLibcs = []string{
	"/lib/x86_64-linux-gnu/libc.so.6",
	"/usr/aarch64-linux-gnu/lib/libc.so.6",
	"/usr/riscv64-linux-gnu/lib/libc.so.6",
}

func TestPatchRealLibcs(t *testing.T) {
	for _, p := range hostLibcs {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (install the Debian packages of tests/host-packages.txt)", err)
		}
		for _, a := range []Anchors{{}, {Gconv: true}, {Gconv: true, Locale: true}} {
			out, err := Patch(data, a)
			if err != nil {
				t.Fatalf("%s %+v: %v", p, a, err)
			}
			if len(out) != len(data) {
				t.Fatalf("%s: length changed", p)
			}
			for _, s := range []string{"\x00/usr/lib/locale\x00", "/usr/lib/locale/locale-archive\x00", "gconv-modules.cache\x00/"} {
				if bytes.Contains(out, []byte(s)) {
					t.Errorf("%s %+v: still holds %q", p, a, s)
				}
			}
			if got := bytes.Contains(out, []byte("\x00/proc/self/fd/1021\x00")); got != a.Gconv {
				t.Errorf("%s %+v: gconv anchor present = %v", p, a, got)
			}
			if got := bytes.Contains(out, []byte("\x00/proc/self/fd/1022\x00")); got != a.Locale {
				t.Errorf("%s %+v: locale anchor present = %v", p, a, got)
			}
			// Patching again, to other anchors, works and is stable.
			again, err := Patch(out, Anchors{Gconv: true})
			if err != nil {
				t.Fatalf("%s: patching a patched libc: %v", p, err)
			}
			if twice, _ := Patch(again, Anchors{Gconv: true}); !bytes.Equal(twice, again) {
				t.Errorf("%s: not idempotent", p)
			}
		}
	}
}

// synth builds a minimal ET_DYN with one read-only PT_LOAD holding ro.
func synth(ro string) []byte {
	const eh, ph = 64, 56
	b := make([]byte, eh+ph, eh+ph+len(ro))
	copy(b, "\x7fELF\x02\x01\x01")
	le := binary.LittleEndian
	le.PutUint16(b[16:], 3)
	le.PutUint16(b[18:], 62)
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[32:], eh)
	le.PutUint16(b[52:], eh)
	le.PutUint16(b[54:], ph)
	le.PutUint16(b[56:], 1)
	le.PutUint32(b[eh:], 1)
	le.PutUint32(b[eh+4:], 4)
	le.PutUint64(b[eh+32:], uint64(eh+ph+len(ro)))
	le.PutUint64(b[eh+40:], uint64(eh+ph+len(ro)))
	return append(b, ro...)
}

const libcStrings = "\x00/usr/lib/x86_64-linux-gnu/gconv\x00/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache\x00/usr/lib/locale\x00/usr/lib/locale/locale-archive\x00"

func TestPatchSynthetic(t *testing.T) {
	out, err := Patch(synth(libcStrings), Anchors{Gconv: true})
	if err != nil {
		t.Fatal(err)
	}
	ro := string(out[64+56:])
	for _, want := range []string{"\x00/proc/self/fd/1021\x00", "\x00/proc/.none/gconv-modules.cache\x00", "\x00/proc/.none/loc\x00", "\x00/proc/.none/locale-archive\x00"} {
		if !strings.Contains(ro, want) {
			t.Errorf("no %q in %q", want, ro)
		}
	}
	for name, in := range map[string][]byte{
		"no locale dir": synth(strings.Replace(libcStrings, "/usr/lib/locale\x00", "/usr/lib/locales\x00", 1)),
		"twice":         synth(libcStrings + libcStrings[1:]),
		"not ELF":       []byte(libcStrings),
		"program":       synth(""),
	} {
		if _, err := Patch(in, Anchors{}); !errors.Is(err, ErrNotLibc) {
			t.Errorf("%s: %v, want ErrNotLibc", name, err)
		}
	}
}

func FuzzPatch(f *testing.F) {
	f.Add(synth(libcStrings), true, false)
	f.Add(synth(libcStrings[:40]), false, true)
	f.Fuzz(func(t *testing.T, data []byte, gconv, locale bool) {
		out, err := Patch(data, Anchors{Gconv: gconv, Locale: locale})
		// In place: the same result, and on error nothing changed.
		in := bytes.Clone(data)
		if ierr := PatchInPlace(in, Anchors{Gconv: gconv, Locale: locale}); (ierr == nil) != (err == nil) {
			t.Fatalf("PatchInPlace error %v, Patch error %v", ierr, err)
		} else if ierr != nil && !bytes.Equal(in, data) {
			t.Fatalf("PatchInPlace failed (%v) but changed its input", ierr)
		} else if ierr == nil && !bytes.Equal(in, out) {
			t.Fatal("PatchInPlace and Patch differ")
		}
		if err != nil {
			if !errors.Is(err, ErrNotLibc) {
				t.Fatalf("error %v does not wrap ErrNotLibc", err)
			}
			return
		}
		if len(out) != len(data) {
			t.Fatal("length changed")
		}
		again, err := Patch(out, Anchors{Gconv: gconv, Locale: locale})
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("patching the result again: %v", err)
		}
	})
}
