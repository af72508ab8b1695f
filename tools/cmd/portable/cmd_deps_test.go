package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestDepsText(t *testing.T) {
	out, _, err := runCLI(t, "deps", "--hwcaps", "none", "/usr/bin/ls")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "\tlibc.so.6 => /") || !strings.Contains(out, "\t/lib64/ld-linux-x86-64.so.2\n") {
		t.Errorf("output:\n%s", out)
	}
	if strings.Contains(out, "0x") {
		t.Errorf("load addresses in output:\n%s", out)
	}
	// several files: one "path:" header each, like ldd
	out, _, err = runCLI(t, "deps", "--hwcaps", "none", "/usr/bin/ls", "/usr/bin/cat")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "/usr/bin/ls:\n") || !strings.Contains(out, "/usr/bin/cat:\n") {
		t.Errorf("output:\n%s", out)
	}
}

func TestDepsJSON(t *testing.T) {
	out, _, err := runCLI(t, "deps", "--json", "--hwcaps", "none", "/usr/bin/ls")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Root     string `json:"root"`
		Programs []struct {
			Path      string `json:"path"`
			Libraries []struct {
				Name     string   `json:"name"`
				Path     string   `json:"path"`
				HostPath string   `json:"host_path"`
				NeededBy []string `json:"needed_by"`
				FoundVia string   `json:"found_via"`
			} `json:"libraries"`
			Missing []any `json:"missing"`
		} `json:"programs"`
		Missing []any `json:"missing"`
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if c.Root != "/" || len(c.Programs) != 1 || len(c.Programs[0].Libraries) < 2 || c.Missing == nil {
		t.Fatalf("unexpected JSON: %s", out)
	}
	first := c.Programs[0].Libraries[0]
	if first.NeededBy[0] != "/usr/bin/ls" || first.FoundVia == "" || first.HostPath == "" {
		t.Errorf("first library %+v", first)
	}
	again, _, _ := runCLI(t, "deps", "--json", "--hwcaps", "none", "/usr/bin/ls")
	if again != out {
		t.Error("JSON differs between two runs")
	}
}

func TestDepsMissingIsAnError(t *testing.T) {
	d := t.TempDir()
	src := filepath.Join(d, "m.c")
	if err := os.WriteFile(src, []byte("int main(void){return 0;}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stub := filepath.Join(d, "libgone.so.7")
	exe := filepath.Join(d, "app")
	for _, args := range [][]string{
		{"-nostdlib", "-shared", "-o", stub, "-Wl,-soname,libgone.so.7", src},
		{"-nostdlib", "-o", exe, src, "-Wl,-e,main", "-Wl,--no-as-needed", stub},
	} {
		if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
			t.Fatalf("gcc (Debian package gcc): %v\n%s", err, out)
		}
	}
	if err := os.Remove(stub); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, "deps", "--hwcaps", "none", exe)
	if err == nil || !strings.Contains(err.Error(), "1 library not found in root /: libgone.so.7 (needed by "+exe+"); add the package that ships it") {
		t.Fatalf("got %v", err)
	}
	var ue usageError
	if errors.As(err, &ue) {
		t.Error("a missing library is not a usage error")
	}
	if !strings.Contains(out, "\tlibgone.so.7 => not found\n") {
		t.Errorf("output:\n%s", out)
	}
}

func TestDepsUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"deps"},
		{"deps", "--ld-cache", "bogus", "/usr/bin/ls"},
		{"deps", "--hwcaps", "a/b", "/usr/bin/ls"},
		{"deps", "--legacy-hwcaps", "maybe", "/usr/bin/ls"},
	} {
		_, _, err := runCLI(t, args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: got %v, want a usage error", args, err)
		}
	}
	_, _, err := runCLI(t, "deps", "--root", "/nonexistent-root", "/usr/bin/ls")
	if err == nil || !strings.Contains(err.Error(), "root /nonexistent-root") {
		t.Errorf("missing root: %v", err)
	}
	_, _, err = runCLI(t, "deps", "/etc/passwd")
	if err == nil || !strings.Contains(err.Error(), "/etc/passwd") {
		t.Errorf("non-ELF: %v", err)
	}
}

func TestDepsHelpListsFlags(t *testing.T) {
	out, _, err := runCLI(t, "deps", "--help")
	if !errors.Is(err, errHelpShown) {
		t.Fatal(err)
	}
	for _, f := range []string{"-root", "-json", "-library-path", "-ld-cache", "-hwcaps", "-platform", "-legacy-hwcaps", "-lib", "-workdir", "Examples:"} {
		if !strings.Contains(out, f) {
			t.Errorf("--help does not mention %s:\n%s", f, out)
		}
	}
}
