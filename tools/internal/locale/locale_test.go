package locale

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"C.UTF-8":               "C.utf8",
		"C.utf8":                "C.utf8",
		"en_US.UTF-8":           "en_US.utf8",
		"de_DE.ISO-8859-1@euro": "de_DE.iso88591@euro",
		"ja_JP.eucJP":           "ja_JP.eucjp",
		"POSIX":                 "POSIX",
		"sr_RS@latin":           "sr_RS@latin",
		"x.--":                  "x.--",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHashIsGlibcs(t *testing.T) {
	// glibc's compute_hashval, 32 bits: len, then rotate left 9 and add each byte.
	h := uint32(3)
	for _, c := range []byte("abc") {
		h = (h<<9 | h>>23) + uint32(c)
	}
	if got := hash("abc"); got != h {
		t.Errorf("hash(abc) = %#x, want %#x", got, h)
	}
}

// TestArchiveLoadsInGlibc writes an archive of the host's C.utf8 and has
// a static program of the host's glibc load it in an otherwise empty
// root: setlocale succeeds only through the archive.
func TestArchiveLoadsInGlibc(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("needs root for chroot (CI runs as root)")
	}
	l, err := ReadDir("/usr/lib/locale/C.utf8", "C.UTF-8")
	if err != nil {
		t.Fatalf("%v (the Debian package libc-bin ships C.utf8)", err)
	}
	b, err := Write([]*Locale{l}, binary.LittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	if names, err := Names(b, binary.LittleEndian); err != nil || len(names) != 1 || names[0] != "C.utf8" {
		t.Errorf("Names = %q, %v", names, err)
	}
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "usr/lib/locale"), 0o755)
	if err := os.WriteFile(filepath.Join(root, "usr/lib/locale/locale-archive"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(root, "loc.c")
	os.WriteFile(src, []byte(`#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>
int main(void) {
	const char *r = setlocale(LC_ALL, "");
	if (!r) { printf("setlocale failed\n"); return 1; }
	wchar_t w[4];
	size_t n = mbstowcs(w, "\xe6\x97\xa5", 4);
	printf("%s %s %zu %x\n", r, nl_langinfo(CODESET), n, n == 1 ? (unsigned)w[0] : 0);
	return 0;
}
`), 0o644)
	if out, err := exec.Command("gcc", "-static", "-o", filepath.Join(root, "loc"), src).CombinedOutput(); err != nil {
		t.Fatalf("gcc -static: %v\n%s", err, out)
	}
	for _, lang := range []string{"C.UTF-8", "C.utf8"} {
		cmd := exec.Command("chroot", root, "/loc")
		cmd.Env = []string{"LC_ALL=" + lang}
		out, err := cmd.CombinedOutput()
		if err != nil || string(out) != lang+" UTF-8 1 65e5\n" {
			t.Errorf("LC_ALL=%s: %v %q", lang, err, out)
		}
	}
	cmd := exec.Command("chroot", root, "/loc")
	cmd.Env = []string{"LC_ALL=en_US.UTF-8"}
	if out, _ := cmd.CombinedOutput(); string(out) != "setlocale failed\n" {
		t.Errorf("a locale not in the archive: %q", out)
	}
}

func TestWriteRefuses(t *testing.T) {
	full := &Locale{Name: "x.utf8"}
	for i := range full.Data {
		if i != lcAll {
			full.Data[i] = []byte("12345678")
		}
	}
	if _, err := Write(nil, binary.LittleEndian); err == nil {
		t.Error("no locales accepted")
	}
	if _, err := Write([]*Locale{full, full}, binary.LittleEndian); err == nil {
		t.Error("a name twice accepted")
	}
	missing := *full
	missing.Data[0] = nil
	if _, err := Write([]*Locale{&missing}, binary.LittleEndian); err == nil || !strings.Contains(err.Error(), "LC_CTYPE") {
		t.Errorf("a missing category: %v", err)
	}
	if _, err := ReadDir(t.TempDir(), "x"); err == nil {
		t.Error("an empty directory read as a locale")
	}
}

// FuzzNames: Names never panics on any bytes, and what Write makes reads
// back.
func FuzzNames(f *testing.F) {
	l := &Locale{Name: "C.utf8"}
	for i := range l.Data {
		if i != lcAll {
			l.Data[i] = bytes.Repeat([]byte{byte(i)}, 16)
		}
	}
	good, _ := Write([]*Locale{l}, binary.LittleEndian)
	f.Add(good[:headerSize+64])
	f.Add([]byte{0x09, 0x01, 0x02, 0xde})
	f.Fuzz(func(t *testing.T, data []byte) {
		Names(data, binary.LittleEndian)
	})
}
