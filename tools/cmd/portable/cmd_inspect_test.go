package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInspectJSON(t *testing.T) {
	out, stderr, err := runCLI(t, "inspect", "--json", "/usr/bin/ls", "/lib64/ld-linux-x86-64.so.2")
	if err != nil {
		t.Fatalf("inspect: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines, got %d:\n%s", len(lines), out)
	}
	var objs []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("bad JSON %q: %v", l, err)
		}
		for _, k := range []string{"path", "class", "machine", "type", "linkage", "interpreter", "needed", "rpath", "runpath", "soname", "version_needs", "max_glibc", "problems"} {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: no %q field", l, k)
			}
		}
		objs = append(objs, m)
	}
	ls, ld := objs[0], objs[1]
	if ls["interpreter"] != "/lib64/ld-linux-x86-64.so.2" || ls["linkage"] != "dynamic" || ls["machine"] != "x86_64" || ls["class"] != "ELF64" {
		t.Errorf("ls: %v", ls)
	}
	if g, _ := ls["max_glibc"].(string); !strings.HasPrefix(g, "GLIBC_2.") {
		t.Errorf("ls max_glibc = %q", g)
	}
	if ld["soname"] != "ld-linux-x86-64.so.2" || ld["interpreter"] != "" {
		t.Errorf("ld.so: %v", ld)
	}
	if n, ok := ld["needed"].([]any); !ok || len(n) != 0 {
		t.Errorf("ld.so needed = %#v, want []", ld["needed"])
	}
}

func TestInspectHuman(t *testing.T) {
	out, _, err := runCLI(t, "inspect", "/usr/bin/ls")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/usr/bin/ls: ELF64 little-endian x86_64", "interpreter: /lib64/ld-linux-x86-64.so.2", "libc.so.6", "max glibc:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// A loader path padded with slashes (a PATH_MAX slot reserved at link time)
// reads as the path it names; --json keeps every byte.
func TestInspectPaddedInterpreter(t *testing.T) {
	dir := t.TempDir()
	padded := strings.Repeat("/", 4000) + "lib64/ld-linux-x86-64.so.2"
	out := filepath.Join(dir, "ls")
	if _, _, err := runCLI(t, "patch", "--set-interpreter", padded, "-o", out, "/usr/bin/ls"); err != nil {
		t.Fatal(err)
	}
	human, _, err := runCLI(t, "inspect", out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "interpreter: /lib64/ld-linux-x86-64.so.2 (padded with 3999 extra slashes; slot "; !strings.Contains(human, want) {
		t.Errorf("output lacks %q:\n%.300s", want, human)
	}
	js, _, err := runCLI(t, "inspect", "--json", out)
	if err != nil {
		t.Fatal(err)
	}
	var r struct{ Interpreter string }
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatalf("%v: %.300s", err, js)
	}
	if r.Interpreter != padded {
		t.Errorf("--json interpreter = %.60q..., want the padded path", r.Interpreter)
	}
}

func TestInspectBadInput(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script")
	os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o755)
	text := filepath.Join(dir, "text")
	os.WriteFile(text, []byte("hello"), 0o644)
	trunc := filepath.Join(dir, "trunc")
	ls, err := os.ReadFile("/usr/bin/ls")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(trunc, ls[:40], 0o755)
	loop := filepath.Join(dir, "loop")
	os.Symlink(loop, loop)
	args := []string{"inspect", script, text, trunc, dir, loop, "/usr/bin/ls"}
	out, stderr, err := runCLI(t, args...)
	if err == nil || !strings.Contains(err.Error(), "5 of 6") {
		t.Fatalf("err = %v, want 5 of 6 failures", err)
	}
	if !strings.Contains(out, "/usr/bin/ls: ELF64") {
		t.Errorf("the good file was not printed:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 5 {
		t.Fatalf("want one stderr line per bad file, got:\n%s", stderr)
	}
	for i, want := range []string{"is a script (#!/bin/sh)", "not an ELF file", "truncated ELF header", "is a directory", "too many levels of symbolic links"} {
		if !strings.Contains(lines[i], args[i+1]+": ") || !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %q, want the path and %q", i, lines[i], want)
		}
	}
}
