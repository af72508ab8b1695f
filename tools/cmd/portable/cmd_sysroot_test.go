package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-portable/rules_portable/tools/internal/deb/debtest"
)

// sysrootTestEnv points the CLI at the machine's Debian mirror (from apt's
// configuration) and returns the shared download cache.
func sysrootTestEnv(t *testing.T) string {
	t.Helper()
	t.Setenv("PORTABLE_DEBIAN_MIRROR", debtest.Mirror(t))
	return debtest.CacheDir()
}

func TestSysrootUsage(t *testing.T) {
	for _, args := range [][]string{
		{"sysroot"},
		{"sysroot", "frob"},
		{"sysroot", "lock", "-p", "libc6"},
		{"sysroot", "build", "--lock", "x.json"},
		{"sysroot", "verify"},
		{"sysroot", "check", "/bin/true"},
		{"sysroot", "build", "--nope"},
	} {
		_, _, err := runCLI(t, args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: got %v, want a usage error", args, err)
		}
	}
	for _, sub := range []string{"lock", "build", "verify", "check"} {
		out, _, err := runCLI(t, "sysroot", sub, "--help")
		if !errors.Is(err, errHelpShown) || !strings.Contains(out, "Usage: portable sysroot "+sub) || !strings.Contains(out, "Example") {
			t.Errorf("sysroot %s --help: %v\n%s", sub, err, out)
		}
	}
	out, _, err := runCLI(t, "sysroot", "--help")
	if !errors.Is(err, errHelpShown) || !strings.Contains(out, "lock    resolve") {
		t.Errorf("sysroot --help: %v\n%s", err, out)
	}
}

func TestSysrootBuildBadLock(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, "bad.json")
	os.WriteFile(lock, []byte(`{"schema_version": 1, "arch": "amd64", "packages": [{"name": "libc6", "version": "1", "architecture": "amd64", "filename": "../../etc/passwd", "size": 1, "sha256": "`+strings.Repeat("a", 64)+`"}]}`), 0o644)
	_, _, err := runCLI(t, "sysroot", "build", "--lock", lock, "--label", "v1", "-o", filepath.Join(dir, "out"))
	if err == nil || !strings.Contains(err.Error(), "pool path") {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Fatal("output written for a bad lock")
	}
}

// TestSysrootEndToEnd builds v1 and v2 with the CLI, runs a host-built
// hello against v2 after 'portable patch', verifies v2, and has
// 'sysroot check' refuse v2's own libstdc++ (which needs GLIBC_2.38) for v1.
func TestSysrootEndToEnd(t *testing.T) {
	cache := sysrootTestEnv(t)
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Fatal("gcc not found: install the Debian package gcc")
	}
	dir := t.TempDir()
	for _, v := range []string{"v1", "v2"} {
		out, stderr, err := runCLI(t, "sysroot", "build", "--lock", "../../../sysroots/"+v+".lock.json", "--label", v, "--cache", cache, "-o", filepath.Join(dir, v))
		if err != nil {
			t.Fatalf("build %s: %v\n%s", v, err, stderr)
		}
		if !strings.Contains(out, "sysroot "+v+" (runtime), glibc ") || !strings.Contains(stderr, "fetched") {
			t.Fatalf("build %s output: %q %q", v, out, stderr)
		}
	}
	v2 := filepath.Join(dir, "v2")
	if out, _, err := runCLI(t, "sysroot", "verify", v2); err != nil || !strings.Contains(out, "glibc 2.41") {
		t.Fatalf("verify: %v %s", err, out)
	}

	src := filepath.Join(dir, "hello.c")
	os.WriteFile(src, []byte("#include <stdio.h>\n#include <gnu/libc-version.h>\nint main(void){printf(\"glibc %s\\n\", gnu_get_libc_version());return 0;}\n"), 0o644)
	hello := filepath.Join(dir, "hello")
	if b, err := exec.Command(gcc, "-o", hello, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v %s", err, b)
	}
	patched := hello + ".v2"
	if _, stderr, err := runCLI(t, "patch", "--set-interpreter", filepath.Join(v2, "lib64/ld-linux-x86-64.so.2"), "--set-rpath", filepath.Join(v2, "usr/lib/x86_64-linux-gnu"), "-o", patched, hello); err != nil {
		t.Fatalf("patch: %v %s", err, stderr)
	}
	if b, err := exec.Command(patched).CombinedOutput(); err != nil || strings.TrimSpace(string(b)) != "glibc 2.41" {
		t.Fatalf("patched hello: %q %v", b, err)
	}

	if out, _, err := runCLI(t, "sysroot", "check", "--sysroot", filepath.Join(dir, "v1"), hello); err != nil || !strings.Contains(out, "ok (needs GLIBC_2.34; sysroot v1 has glibc 2.36)") {
		t.Fatalf("check hello against v1: %v %q", err, out)
	}
	libstdcxx := filepath.Join(v2, "usr/lib/x86_64-linux-gnu/libstdc++.so.6")
	_, _, err = runCLI(t, "sysroot", "check", "--sysroot", filepath.Join(dir, "v1"), libstdcxx)
	if err == nil || !strings.Contains(err.Error(), libstdcxx+": needs GLIBC_2.38 but sysroot v1 has glibc 2.36") {
		t.Fatalf("check libstdc++ of v2 against v1: %v", err)
	}

	// A flipped byte makes verify fail.
	libc := filepath.Join(v2, "usr/lib/x86_64-linux-gnu/libc.so.6")
	b, _ := os.ReadFile(libc)
	b[1000] ^= 0x80
	os.WriteFile(libc, b, 0o755)
	if _, _, err := runCLI(t, "sysroot", "verify", v2); err == nil || !strings.Contains(err.Error(), "libc.so.6: sha256") {
		t.Fatalf("verify after tampering: %v", err)
	}
}

// TestSysrootLockExpired: the real sid Release served here is past its
// Valid-Until; lock says so and names the flag, and writes nothing.
func TestSysrootLockExpired(t *testing.T) {
	cache := sysrootTestEnv(t)
	out := filepath.Join(t.TempDir(), "v3.lock.json")
	_, _, err := runCLI(t, "sysroot", "lock", "--suite", "sid", "-p", "libc6", "--cache", cache, "-o", out)
	if err == nil || !strings.Contains(err.Error(), "--allow-expired-release") {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("lockfile written")
	}
	_, _, err = runCLI(t, "sysroot", "lock", "--suite", "sid", "--arch", "vax", "-p", "libc6", "--cache", cache, "-o", out)
	if err == nil || !strings.Contains(err.Error(), `unknown architecture "vax"`) {
		t.Fatalf("got %v", err)
	}
}
