package elf

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func addSeeds(f *testing.F, add func(b []byte)) {
	ents, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() || strings.HasSuffix(e.Name(), ".c") || strings.HasSuffix(e.Name(), ".md") || strings.HasSuffix(e.Name(), ".sh") {
			continue
		}
		b, err := os.ReadFile(filepath.Join("testdata", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

// FuzzParse: any input parses or fails with an error; never a panic, and
// what parses can be reported and normalised.
func FuzzParse(f *testing.F) {
	addSeeds(f, func(b []byte) { f.Add(b) })
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Add([]byte("#!/bin/sh\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if _, err := json.Marshal(file.Report()); err != nil {
			t.Fatal(err)
		}
		file.MaxVersion("GLIBC")
		n, err := NormalizeInterpSlot(b)
		if err != nil || len(n) != len(b) {
			t.Fatalf("NormalizeInterpSlot: %v", err)
		}
	})
}

// FuzzPatch: parse, patch, re-parse. A patch either fails with an error or
// gives a file that reads back with the new values, and patching it again
// with the same options changes nothing.
func FuzzPatch(f *testing.F) {
	addSeeds(f, func(b []byte) {
		f.Add(b, "/lib/ld.so", "/opt/lib", uint16(0), uint8(0))
		f.Add(b, "/"+strings.Repeat("i", 150), "$ORIGIN/"+strings.Repeat("r", 90), uint16(4096), uint8(1))
		f.Add(b, "", "", uint16(0), uint8(2))
		f.Add(b, "", "/usr/sysroot/v2/lib", uint16(0), uint8(4))
		f.Add(b, "", "$ORIGIN/../lib", uint16(4096), uint8(8))
	})
	f.Fuzz(func(t *testing.T, b []byte, interp, path string, slot uint16, mode uint8) {
		if len(b) > 1<<20 {
			return
		}
		// Segments claiming gigabytes of address space only exercise the
		// zero padding of the moved-table fallback (up to 64 MiB a run),
		// which makes the fuzzer crawl; keep to 16 MiB.
		if in, err := Parse(bytes.NewReader(b), int64(len(b))); err == nil {
			for _, p := range in.Progs {
				if p.Type == PTLoad && (p.Vaddr > 1<<24 || p.Memsz > 1<<24) {
					return
				}
			}
		}
		opts := PatchOptions{Interpreter: interp, InterpSlot: int(slot % 5000)}
		switch mode % 4 {
		case 0:
			opts.SetRPath, opts.RPath = true, path
		case 1:
			opts.SetRunPath, opts.RunPath = true, path
		case 2:
			opts.SetRunPath, opts.RunPath, opts.ForceRPath = true, path, true
		}
		if mode&8 != 0 {
			opts.SetAudit, opts.Audit = true, path+"/audit.so"
		}
		wantPath := path
		if mode&4 != 0 && (opts.SetRPath || opts.SetRunPath) {
			opts.KeepOrigin = true
			if in, err := Parse(bytes.NewReader(b), int64(len(b))); err == nil {
				wantPath = withOrigins(in.RPath, in.RunPath, path)
			}
		}
		out, err := Patch(b, opts)
		if err != nil {
			return
		}
		g, err := Parse(bytes.NewReader(out), int64(len(out)))
		if err != nil {
			t.Fatalf("patched file does not parse: %v", err)
		}
		if interp != "" && g.Interp != interp {
			t.Fatalf("interp %q, want %q", g.Interp, interp)
		}
		if opts.SetRPath || opts.SetRunPath {
			got := g.RPath
			if mode%4 == 1 {
				got = g.RunPath
			}
			if got != wantPath {
				t.Fatalf("search path %q, want %q", got, wantPath)
			}
		}
		if opts.SetAudit && g.Audit != opts.Audit {
			t.Fatalf("audit %q, want %q", g.Audit, opts.Audit)
		}
		again, err := Patch(out, opts)
		if err != nil {
			t.Fatalf("patching the result again: %v", err)
		}
		if !bytes.Equal(again, out) {
			t.Fatal("patching twice is not idempotent")
		}
	})
}
