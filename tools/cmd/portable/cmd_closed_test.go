package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClosedFlagsRefuseNonsense: every contradictory or malformed closed-
// universe flag is a usage error naming the flag, and nothing is written.
func TestClosedFlagsRefuseNonsense(t *testing.T) {
	work := t.TempDir()
	hello := buildHello(t, work)
	out := filepath.Join(work, "out")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--host-libs", "sometimes"}, `--host-libs "sometimes"`},
		{[]string{"--host-libs", "listed"}, "name the host libraries with --host-lib"},
		{[]string{"--host-libs", "fallback", "--host-lib", "libGL.so.1"}, "fallback lets every host library in already"},
		{[]string{"--host-lib", "/usr/lib/libGL.so.1"}, "want a library's file name"},
		{[]string{"--gconv=maybe"}, "want auto"},
		{[]string{"--host-libs", "fallback", "--trace", "--", "x"}, "--trace needs the bundle's audit module"},
	} {
		_, _, err := runCLI(t, append([]string{"bundle", "-o", out, hello}, c.args...)...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("bundle %v: %v, want a usage error with %q", c.args, err, c.want)
		}
		if _, err := os.Lstat(out); err == nil {
			t.Fatalf("bundle %v left %s", c.args, out)
		}
	}
}

// TestClosedBundleCLI: the default bundle is closed and carries the audit
// module; --enforce-checksums and --host-lib are recorded in the
// manifest; diff-closure passes on a record of nothing but the bundle and
// fails, naming the path, on one with a host object.
func TestClosedBundleCLI(t *testing.T) {
	work := t.TempDir()
	hello := buildHello(t, work)
	b := filepath.Join(work, "b")
	if _, stderr, err := runCLI(t, "bundle", "-o", b, "--enforce-checksums", "--host-lib", "libGL.so.1", hello); err != nil {
		t.Fatalf("bundle: %v\n%s", err, stderr)
	}
	m, err := os.ReadFile(filepath.Join(b, ".portable/manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"policy": "listed"`, `"libGL.so.1"`, `"enforce_checksums": true`, `".portable/audit.so"`, `".portable/audit"`} {
		if !strings.Contains(string(m), want) {
			t.Errorf("manifest lacks %s", want)
		}
	}
	rec := filepath.Join(work, "rec")
	os.WriteFile(rec, []byte("object "+b+"/libexec/hello\nsearch libc.so.6\nobject "+b+"/lib/libc.so.6\n"), 0o644)
	if stdout, _, err := runCLI(t, "diff-closure", "--record", rec, b); err != nil || !strings.Contains(stdout, "ok (the run loaded 2 of") {
		t.Errorf("diff-closure of a closed run: %v %q", err, stdout)
	}
	os.WriteFile(rec, []byte("host /usr/lib/x86_64-linux-gnu/libGL.so.1\nsearch libnope.so.3\n"), 0o644)
	stdout, _, err := runCLI(t, "diff-closure", "--record", rec, b)
	if err == nil || !strings.Contains(stdout, "host: /usr/lib/x86_64-linux-gnu/libGL.so.1\n") || !strings.Contains(stdout, "missing: libnope.so.3\n") {
		t.Errorf("diff-closure of a run that reached the host: %v %q", err, stdout)
	}
	os.WriteFile(rec, []byte("object lib\x00x\n"), 0o644)
	if _, _, err := runCLI(t, "diff-closure", "--record", rec, b); err == nil || !strings.Contains(err.Error(), "record line 1") {
		t.Errorf("a damaged record: %v", err)
	}
}
