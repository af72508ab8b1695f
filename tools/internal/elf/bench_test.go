package elf

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// benchInput is a large real executable of the machine.
func benchInput(b *testing.B) []byte {
	for _, p := range []string{"/usr/bin/gdb", "/usr/bin/python3.11", "/usr/bin/ls"} {
		if data, err := os.ReadFile(p); err == nil {
			return data
		}
	}
	b.Fatal("no benchmark input")
	return nil
}

func BenchmarkParse(b *testing.B) {
	data := benchInput(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPatchGrow(b *testing.B) {
	data := benchInput(b)
	opts := PatchOptions{Interpreter: "/" + strings.Repeat("i", 150) + "/ld.so", SetRPath: true, RPath: "/" + strings.Repeat("r", 120)}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Patch(data, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPatchInPlace(b *testing.B) {
	data := benchInput(b)
	opts := PatchOptions{Interpreter: "/lib/ld.so"}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Patch(data, opts); err != nil {
			b.Fatal(err)
		}
	}
}
