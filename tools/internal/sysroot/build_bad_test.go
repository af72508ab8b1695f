package sysroot

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-portable/rules_portable/tools/internal/deb"
	"github.com/rules-portable/rules_portable/tools/internal/deb/debtest"
)

func oneLock(name string, data []byte, arch string) *deb.Lockfile {
	return &deb.Lockfile{
		SchemaVersion: deb.LockSchemaVersion, Suite: "test", Arch: arch,
		Packages: []deb.LockedPackage{{Name: name, Version: "1.0", Architecture: arch, Filename: "pool/" + name + ".deb", Size: int64(len(data)), SHA256: sum(data)}},
	}
}

// TestBuildBadInput: every bad input is an error naming the problem, and
// leaves nothing at the output path nor any temp directory beside it.
func TestBuildBadInput(t *testing.T) {
	good := debtest.Deb("libc6", "1.0", []debtest.Entry{debtest.File("./usr/lib/x86_64-linux-gnu/libc.so.6", "not really")}, "xz")
	traversal := debtest.Deb("evil", "1.0", []debtest.Entry{debtest.Dir("./usr/"), debtest.File("./usr/../../../tmp/evil", "x")}, "xz")
	corrupt := []byte("!<arch>\ndebian-binary   0           0     0     100644  4         `\n2.0\ngarbage garbage")
	truncated := good[:len(good)/2]
	m := &fakeMirror{files: map[string][]byte{
		"pool/libc6.deb":     good,
		"pool/evil.deb":      traversal,
		"pool/broken.deb":    corrupt,
		"pool/truncated.deb": truncated,
		"pool/cut.deb":       good,
	}, truncate: map[string]bool{"pool/cut.deb": true}}
	f := startMirror(t, m)

	mismatch := oneLock("libc6", good, "amd64")
	mismatch.Packages[0].SHA256 = strings.Repeat("e", 64)
	dev := oneLock("libc6", good, "amd64")
	for _, c := range []struct {
		name string
		lock *deb.Lockfile
		opts func(*BuildOptions)
		want string
	}{
		{"path traversal", oneLock("evil", traversal, "amd64"), nil, "path traversal"},
		{"corrupt deb", oneLock("broken", corrupt, "amd64"), nil, "ar member header"},
		{"truncated deb", oneLock("truncated", truncated, "amd64"), nil, "ar member truncated"},
		{"sha mismatch", mismatch, nil, "sha256"},
		{"interrupted download", oneLock("cut", good, "amd64"), nil, "interrupted"},
		{"unknown arch", oneLock("libc6", good, "vax"), nil, `unknown architecture "vax"`},
		{"no glibc", oneLock("libc6", good, "amd64"), nil, "no dynamic loader"},
		{"dev without dev packages", dev, func(o *BuildOptions) { o.Dev = true }, "lock has no dev packages"},
		{"bad label", oneLock("libc6", good, "amd64"), func(o *BuildOptions) { o.Label = "../v1" }, "label"},
	} {
		for _, ext := range []string{"", ".tar.zst"} {
			t.Run(c.name+ext, func(t *testing.T) {
				parent := t.TempDir()
				out := filepath.Join(parent, "v1"+ext)
				opts := BuildOptions{Lock: c.lock, Label: "v1", Out: out}
				if c.opts != nil {
					c.opts(&opts)
				}
				_, err := Build(context.Background(), f, opts)
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("got %v, want %q", err, c.want)
				}
				if ents, _ := os.ReadDir(parent); len(ents) != 0 {
					t.Fatalf("left behind: %v", ents)
				}
				if _, err := os.Stat("/tmp/evil"); err == nil {
					t.Fatal("/tmp/evil was written")
				}
			})
		}
	}
	// An existing output directory is never replaced.
	parent := t.TempDir()
	out := filepath.Join(parent, "v1")
	os.Mkdir(out, 0o755)
	if _, err := Build(context.Background(), f, BuildOptions{Lock: oneLock("libc6", good, "amd64"), Label: "v1", Out: out}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("existing output: %v", err)
	}
}
