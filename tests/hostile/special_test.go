package hostile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestSpecialFiles gives a FIFO (which blocks whoever opens it for
// reading until a writer comes) and /dev/zero (endless) to every option
// and argument that reads a path. Each must be refused at once, naming the
// option, the file and its kind, with nothing written.
func TestSpecialFiles(t *testing.T) {
	dir := workDir(t)
	fifo := filepath.Join(dir, "F")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	// A bundle directory whose manifest is a FIFO.
	if err := os.MkdirAll(filepath.Join(dir, "B", ".portable"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "B", ".portable", "manifest.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A sysroot directory whose manifest is a FIFO, and one whose manifest
	// is a symlink to /dev/zero.
	for name, mk := range map[string]func(p string) error{
		"SF": func(p string) error { return syscall.Mkfifo(p, 0o644) },
		"SZ": func(p string) error { return os.Symlink("/dev/zero", p) },
	} {
		if err := os.MkdirAll(filepath.Join(dir, name, ".sysroot"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := mk(filepath.Join(dir, name, ".sysroot", "manifest.json")); err != nil {
			t.Fatal(err)
		}
	}
	const isFIFO, isDev = "is a FIFO", "is a character device"
	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"bundle --add FIFO", []string{"bundle", "-o", "out", "--add", "F", "/bin/true"}, 1, []string{"--add F: ", isFIFO, "; want a regular file or a directory"}},
		{"bundle --add /dev/zero", []string{"bundle", "-o", "out", "--add", "/dev/zero", "/bin/true"}, 1, []string{"--add /dev/zero: ", isDev}},
		{"bundle --launcher FIFO", []string{"bundle", "-o", "out", "--launcher", "F", "/bin/true"}, 1, []string{"--launcher F: ", isFIFO, "; want a regular file"}},
		{"bundle --launcher /dev/zero", []string{"bundle", "-o", "out", "--launcher", "/dev/zero", "/bin/true"}, 1, []string{"--launcher /dev/zero: ", isDev}},
		{"bundle --sysroot FIFO", []string{"bundle", "-o", "out", "--sysroot", "F", "/bin/true"}, 1, []string{"--sysroot F: ", isFIFO}},
		{"bundle --sysroot /dev/zero", []string{"bundle", "-o", "out", "--sysroot", "/dev/zero", "/bin/true"}, 1, []string{"--sysroot /dev/zero: ", isDev}},
		{"bundle FIFO", []string{"bundle", "-o", "out", "F"}, 1, []string{"F: ", isFIFO, ", not a program"}},
		{"bundle /dev/zero", []string{"bundle", "-o", "out", "/dev/zero"}, 1, []string{"/dev/zero: ", isDev, ", not a program"}},
		{"inspect FIFO", []string{"inspect", "F"}, 1, []string{"inspect: F: ", isFIFO, ", not an ELF file"}},
		{"inspect /dev/zero", []string{"inspect", "/dev/zero"}, 1, []string{"inspect: /dev/zero: ", isDev}},
		{"patch FIFO", []string{"patch", "--set-rpath", "/x", "F"}, 1, []string{"F: ", isFIFO, ", not an ELF file"}},
		{"patch /dev/zero", []string{"patch", "--set-rpath", "/x", "-o", "out", "/dev/zero"}, 1, []string{"/dev/zero: ", isDev}},
		{"deps FIFO", []string{"deps", "F"}, 1, []string{"deps: F: ", isFIFO, ", not an ELF file"}},
		{"deps --root FIFO", []string{"deps", "--root", "F", "/bin/true"}, 1, []string{"deps: --root F: ", isFIFO, "; want a directory"}},
		{"verify FIFO", []string{"verify", "F"}, 1, []string{"F: ", isFIFO, "; want a directory"}},
		{"verify, manifest a FIFO", []string{"verify", "B"}, 1, []string{"B/.portable/manifest.json: ", isFIFO, "; want a regular file"}},
		{"relocate FIFO", []string{"relocate", "F"}, 1, []string{"F: ", isFIFO, "; want a directory"}},
		{"relocate, manifest a FIFO", []string{"relocate", "B"}, 1, []string{"B/.portable/manifest.json: ", isFIFO}},
		{"sysroot check --sysroot FIFO", []string{"sysroot", "check", "--sysroot", "F", "/bin/true"}, 1, []string{"sysroot check: --sysroot F: ", isFIFO}},
		{"sysroot build --lock FIFO", []string{"sysroot", "build", "--lock", "F", "--label", "v9", "-o", "out"}, 1, []string{"sysroot build: --lock F: ", isFIFO}},
		{"sysroot build --lock /dev/zero", []string{"sysroot", "build", "--lock", "/dev/zero", "--label", "v9", "-o", "out"}, 1, []string{"sysroot build: --lock /dev/zero: ", isDev}},
		{"sysroot lock --keyring FIFO", []string{"sysroot", "lock", "--keyring", "F", "--suite", "bookworm", "-p", "libc6", "--mirror", "file:///nonexistent", "-o", "out"}, 1, []string{"--keyring F: ", isFIFO}},
		{"sysroot lock --keyring /dev/zero", []string{"sysroot", "lock", "--keyring", "/dev/zero", "--suite", "bookworm", "-p", "libc6", "--mirror", "file:///nonexistent", "-o", "out"}, 1, []string{"--keyring /dev/zero: ", isDev}},
		{"sysroot verify FIFO", []string{"sysroot", "verify", "F"}, 1, []string{"sysroot verify: F: ", isFIFO}},
		{"sysroot verify, manifest a FIFO", []string{"sysroot", "verify", "SF"}, 1, []string{"sysroot manifest SF/.sysroot/manifest.json: ", isFIFO}},
		{"sysroot verify, manifest /dev/zero", []string{"sysroot", "verify", "SZ"}, 1, []string{"sysroot manifest SZ/.sysroot/manifest.json: ", isDev}},
		{"sysroot check, manifest a FIFO", []string{"sysroot", "check", "--sysroot", "SF", "/bin/true"}, 1, []string{"sysroot manifest SF/.sysroot/manifest.json: ", isFIFO}},
		{"bundle --sysroot, manifest a FIFO", []string{"bundle", "-o", "out", "--sysroot", "SF", "/bin/true"}, 1, []string{"SF/.sysroot/manifest.json: ", isFIFO}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := cli(t, dir, nil, c.args...)
			expectFail(t, r, c.code, c.want...)
			mustNotExist(t, filepath.Join(dir, "out"))
			if l := leftovers(t, dir); len(l) > 0 {
				t.Errorf("left behind: %v", l)
			}
		})
	}
}

// TestLauncherSizeBound gives --launcher a regular file bigger than any
// launcher: refused by size before it is read.
func TestLauncherSizeBound(t *testing.T) {
	dir := workDir(t)
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 1<<40); err != nil { // sparse: 1 TiB
		t.Fatal(err)
	}
	r := cli(t, dir, nil, "bundle", "-o", "out", "--launcher", "big", "/bin/true")
	expectFail(t, r, 1, "--launcher big: is 1099511627776 bytes, more than the 4194304 this input may be")
	mustNotExist(t, filepath.Join(dir, "out"))
}
