package fsutil

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestInputRefusesSpecialFilesWithoutBlocking(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	reg := filepath.Join(dir, "reg")
	if err := os.WriteFile(reg, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"fifo read", func() error { _, err := ReadInput("--launcher", fifo, 10); return err }, "--launcher " + fifo + ": is a FIFO; want a regular file"},
		{"dev zero", func() error { _, err := ReadInput("--launcher", "/dev/zero", 10); return err }, "is a character device; want a regular file"},
		{"dir as file", func() error { _, _, err := OpenInput("--lock", dir, 0); return err }, "is a directory; want a regular file"},
		{"fifo as dir", func() error { _, err := StatInput("--root", fifo, Directory); return err }, "is a FIFO; want a directory"},
		{"missing", func() error {
			_, err := StatInput("--add", filepath.Join(dir, "nope"), RegularFile|Directory)
			return err
		}, "cannot read it: no such file or directory"},
		{"too big", func() error { _, err := ReadInput("--launcher", reg, 4); return err }, "is 5 bytes, more than the 4 this input may be"},
	}
	for _, c := range cases {
		done := make(chan error, 1)
		go func() { done <- c.call() }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: got %v, want %q", c.name, err, c.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: blocked", c.name)
		}
	}
	b, err := ReadInput("--launcher", reg, 5)
	if err != nil || string(b) != "hello" {
		t.Fatalf("regular file: %q, %v", b, err)
	}
}
