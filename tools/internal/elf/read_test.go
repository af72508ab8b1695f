package elf

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// systemELFs walks dirs and returns the regular files that start with the
// ELF magic, and how many regular files did not.
func systemELFs(t testing.TB, dirs ...string) (elfs []string, nonELF int) {
	t.Helper()
	for _, root := range dirs {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			fd, err := os.Open(p)
			if err != nil {
				return err
			}
			var magic [4]byte
			n, _ := fd.Read(magic[:])
			fd.Close()
			if n == 4 && string(magic[:]) == "\x7fELF" {
				elfs = append(elfs, p)
			} else {
				nonELF++
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", root, err)
		}
	}
	sort.Strings(elfs)
	return elfs, nonELF
}

// parallel runs fn on every item with a few workers.
func parallel[T any](items []T, fn func(T)) {
	var wg sync.WaitGroup
	ch := make(chan T)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ch {
				fn(it)
			}
		}()
	}
	for _, it := range items {
		ch <- it
	}
	close(ch)
	wg.Wait()
}

// TestOpenSystemELFs opens every ELF file of the machine's /usr/bin,
// /usr/lib/x86_64-linux-gnu and /usr/libexec: none may fail or report a
// problem (they are all well-formed, trusted system files).
func TestOpenSystemELFs(t *testing.T) {
	elfs, nonELF := systemELFs(t, "/usr/bin", "/usr/lib/x86_64-linux-gnu", "/usr/libexec")
	if len(elfs) < 200 {
		t.Fatalf("found only %d ELF files under /usr/bin, /usr/lib/x86_64-linux-gnu, /usr/libexec", len(elfs))
	}
	var mu sync.Mutex
	var dynamic int
	parallel(elfs, func(p string) {
		f, err := Open(p)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			t.Errorf("Open: %v", err)
			return
		}
		if len(f.Problems) > 0 {
			t.Errorf("%s: unexpected problems %q", p, f.Problems)
		}
		if f.Linkage == Dynamic {
			dynamic++
		}
	})
	t.Logf("%d ELF files (%d dynamic), %d non-ELF files skipped", len(elfs), dynamic, nonELF)
}

// readelfView is what readelf -dlW --version-info says about one file.
type readelfView struct {
	interp                 string
	needed                 []string
	rpath, runpath, soname string
	versionNeeds           []VersionNeed
}

var (
	reInterp  = regexp.MustCompile(`\[Requesting program interpreter: (.*)\]`)
	reDynStr  = regexp.MustCompile(`^\s*0x[0-9a-f]+ \((NEEDED|RPATH|RUNPATH|SONAME)\)\s+[A-Za-z ]+: \[(.*)\]$`)
	reVerFile = regexp.MustCompile(`^\s*0x?[0-9a-f]+: Version: \d+\s+File: (\S+)\s+Cnt: \d+$`)
	reVerName = regexp.MustCompile(`^\s*0x[0-9a-f]+:\s+Name: (\S+)\s+Flags: .*Version: \d+$`)
)

func readelf(t *testing.T, path string) readelfView {
	t.Helper()
	out, err := exec.Command("readelf", "-dlW", "--version-info", path).Output()
	if err != nil {
		t.Fatalf("readelf %s: %v", path, err)
	}
	var v readelfView
	inNeeds := false
	for _, line := range strings.Split(string(out), "\n") {
		if m := reInterp.FindStringSubmatch(line); m != nil {
			v.interp = m[1]
		}
		if m := reDynStr.FindStringSubmatch(line); m != nil {
			switch m[1] {
			case "NEEDED":
				v.needed = append(v.needed, m[2])
			case "RPATH":
				v.rpath = m[2]
			case "RUNPATH":
				v.runpath = m[2]
			case "SONAME":
				v.soname = m[2]
			}
		}
		if strings.HasPrefix(line, "Version needs section") {
			inNeeds = true
			continue
		}
		if inNeeds && strings.HasPrefix(line, "Version ") {
			inNeeds = false
		}
		if !inNeeds {
			continue
		}
		if m := reVerFile.FindStringSubmatch(line); m != nil {
			v.versionNeeds = append(v.versionNeeds, VersionNeed{File: m[1]})
		} else if m := reVerName.FindStringSubmatch(line); m != nil && len(v.versionNeeds) > 0 {
			last := &v.versionNeeds[len(v.versionNeeds)-1]
			last.Versions = append(last.Versions, m[1])
		}
	}
	return v
}

// TestReadelfOracle compares every field against readelf on a sample of
// the machine's files (every 10th ELF, plus the loader and libc).
func TestReadelfOracle(t *testing.T) {
	if _, err := exec.LookPath("readelf"); err != nil {
		t.Fatal("readelf not found: install the Debian package binutils")
	}
	elfs, _ := systemELFs(t, "/usr/bin", "/usr/lib/x86_64-linux-gnu", "/usr/libexec")
	var sample []string
	for i, p := range elfs {
		if i%10 == 0 {
			sample = append(sample, p)
		}
	}
	sample = append(sample, "/lib64/ld-linux-x86-64.so.2", "/usr/lib/x86_64-linux-gnu/libc.so.6")
	var mu sync.Mutex
	compared, withRpath, withVer := 0, 0, 0
	parallel(sample, func(p string) {
		f, err := Open(p)
		if err != nil {
			mu.Lock()
			t.Errorf("Open: %v", err)
			mu.Unlock()
			return
		}
		want := readelf(t, p)
		got := readelfView{interp: f.Interp, needed: f.Needed, rpath: f.RPath, runpath: f.RunPath, soname: f.SOName, versionNeeds: f.VersionNeeds}
		mu.Lock()
		defer mu.Unlock()
		compared++
		if want.rpath != "" || want.runpath != "" {
			withRpath++
		}
		if len(want.versionNeeds) > 0 {
			withVer++
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got  %+v\n want %+v (readelf)", p, got, want)
		}
	})
	t.Logf("compared %d files with readelf (%d with RPATH/RUNPATH, %d with version needs)", compared, withRpath, withVer)
	if compared < 100 || withVer < 50 {
		t.Fatalf("sample too small: %d files, %d with version needs", compared, withVer)
	}
}
