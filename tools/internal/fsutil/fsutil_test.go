package fsutil

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestWriteFileAtomicKeepsOldContentOnError(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")
	if err := WriteBytesAtomic(p, 0o644, []byte("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFileAtomic(p, 0o644, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "old" {
		t.Fatalf("content = %q, want old", got)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temp file left behind: %v", ents)
	}
}

func TestWriteFileAtomicMode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x")
	if err := WriteBytesAtomic(p, 0o755, []byte("#!")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o755 {
		t.Fatalf("mode = %v", st.Mode())
	}
}

func TestRenameNoReplace(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, []byte("a"), 0o644)
	os.WriteFile(b, []byte("b"), 0o644)
	if err := RenameNoReplace(a, b); !errors.Is(err, os.ErrExist) {
		t.Fatalf("got %v, want ErrExist", err)
	}
	os.Remove(b)
	if err := RenameNoReplace(a, b); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(b); string(got) != "a" {
		t.Fatalf("b = %q", got)
	}
}

func TestLockFileSerialises(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	var mu sync.Mutex
	inside := 0
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := LockFile(p)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			inside++
			if inside != 1 {
				t.Errorf("%d holders at once", inside)
			}
			mu.Unlock()
			mu.Lock()
			inside--
			mu.Unlock()
			l.Unlock()
		}()
	}
	wg.Wait()
}

func TestIsReadOnly(t *testing.T) {
	ro, err := IsReadOnly(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if ro {
		t.Fatal("temp dir reported read-only")
	}
	if _, err := IsReadOnly("/does/not/exist"); err == nil {
		t.Fatal("want error for missing path")
	}
}

func TestRemoveEmptyDir(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	full := filepath.Join(dir, "full")
	file := filepath.Join(dir, "file")
	os.Mkdir(empty, 0o755)
	os.Mkdir(full, 0o755)
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	os.WriteFile(file, []byte("keep"), 0o644)
	for _, p := range []string{empty, full, file, filepath.Join(dir, "missing")} {
		if err := RemoveEmptyDir(p); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	if _, err := os.Stat(empty); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("empty dir still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(full, "x")); err != nil {
		t.Errorf("non-empty dir touched: %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep" {
		t.Errorf("file touched")
	}
}

func TestWriteFileAtomicKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("giving a file to another user needs root: run as tests/run_all.sh does (sudo)")
	}
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytesAtomic(p, 0o644, []byte("new")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if s := st.Sys().(*syscall.Stat_t); s.Uid != 65534 || s.Gid != 65534 {
		t.Errorf("owner %d:%d after rewrite, want 65534:65534", s.Uid, s.Gid)
	}
	// A set-UID bit asked for by a caller that cannot give the file to
	// its owner is dropped; root can, so here it stays.
	if err := WriteFileAtomicLike(p, 0o755|os.ModeSetuid, st, func(w io.Writer) error { _, err := w.Write([]byte("x")); return err }); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode()&os.ModeSetuid == 0 {
		t.Errorf("mode %v: root keeps the owner, so the set-UID bit stays", st.Mode())
	}
}

func TestWriteRefusesSymlinkAndRemovesStale(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "out")
	if err := os.Symlink("elsewhere", link); err != nil {
		t.Fatal(err)
	}
	err := WriteBytesAtomic(link, 0o644, []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "is a symlink (to elsewhere), which the write would replace") {
		t.Fatalf("write over a symlink: %v", err)
	}
	if got, _ := os.Readlink(link); got != "elsewhere" {
		t.Fatalf("the link changed: %q", got)
	}
	// A leftover of a killed run (unlocked), one of a live run (locked
	// here) and an unrelated name: only the first goes.
	out := filepath.Join(dir, "f")
	stale := filepath.Join(dir, ".f"+TempInfix+"1")
	other := filepath.Join(dir, ".f.tmp-mine")
	for _, p := range []string{stale, other} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	live, err := CreateTempFile(dir, ".f"+TempInfix)
	if err != nil {
		t.Fatal(err)
	}
	defer RemoveTemp(live.Name())
	if err := WriteBytesAtomic(out, 0o644, []byte("y")); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{stale: false, other: true, live.Name(): true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: exists = %v, want %v", p, err == nil, want)
		}
	}
}

// TestTempLockedFromBirth: a temp has its TempInfix name only once it is
// locked, and a leftover of the instant before (its newInfix name) is
// removed only once it is older than newGrace.
func TestTempLockedFromBirth(t *testing.T) {
	dir := t.TempDir()
	f, err := CreateTempFile(dir, ".f"+TempInfix)
	if err != nil {
		t.Fatal(err)
	}
	defer RemoveTemp(f.Name())
	d, err := MkdirTemp(dir, ".d"+TempInfix)
	if err != nil {
		t.Fatal(err)
	}
	defer RemoveTemp(d)
	for _, p := range []string{f.Name(), d} {
		if !strings.Contains(filepath.Base(p), TempInfix) || filepath.Dir(p) != dir {
			t.Errorf("temp %s: want a TempInfix name in %s", p, dir)
		}
		if _, err := os.Stat(p); err != nil {
			t.Errorf("temp %s: %v", p, err)
		}
		lf, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if unix.Flock(int(lf.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			t.Errorf("temp %s is not locked", p)
		}
		lf.Close()
	}
	if _, err := f.WriteString("x"); err != nil {
		t.Errorf("write to the temp file: %v", err)
	}
	if got := RemoveStale(filepath.Join(dir, "f")); len(got) != 0 {
		t.Errorf("RemoveStale removed live temps: %v", got)
	}

	young := filepath.Join(dir, ".f"+newInfix+"1")
	if err := os.Mkdir(young, 0o700); err != nil {
		t.Fatal(err)
	}
	if got := RemoveStale(filepath.Join(dir, "f")); len(got) != 0 {
		t.Errorf("RemoveStale read the directory again: %v", got)
	}
	forgetScans() // as a new run would
	if got := RemoveStale(filepath.Join(dir, "f")); len(got) != 0 {
		t.Errorf("RemoveStale removed a newInfix temp younger than %v: %v", newGrace, got)
	}
	defer func(g time.Duration) { newGrace = g }(newGrace)
	newGrace = 0
	if got := RemoveStale(filepath.Join(dir, "f")); len(got) != 1 || got[0] != young {
		t.Errorf("RemoveStale of an old newInfix leftover: %v, want [%s]", got, young)
	}
	if _, err := os.Stat(f.Name()); err != nil {
		t.Errorf("the live temp went too: %v", err)
	}
}

// forgetScans makes RemoveStaleIn read every directory again (tests).
func forgetScans() {
	stale.Lock()
	defer stale.Unlock()
	clear(stale.dirs)
}
