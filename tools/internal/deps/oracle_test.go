package deps

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/rules-portable/rules_portable/tools/internal/deb/debtest"
	"github.com/rules-portable/rules_portable/tools/internal/elf"
)

// dynamicExecutables lists the dynamically linked executables (with a
// PT_INTERP) among the entries of dir, each by its canonical path, once.
func dynamicExecutables(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out []string
	for _, d := range ents {
		p, err := filepath.EvalSymlinks(filepath.Join(dir, d.Name()))
		if err != nil || seen[p] {
			continue
		}
		seen[p] = true
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		f, err := elf.Open(p)
		if err != nil || f.Linkage != elf.Dynamic || f.Interp == "" {
			continue
		}
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

var lddLine = regexp.MustCompile(`^\t(\S+)(?: => (.*?))?(?: \(0x[0-9a-f]+\))?$`)

// lddClosure runs ldd (the oracle, only on trusted system binaries) and
// returns name -> canonical path ("" for not found).
func lddClosure(file string) (map[string]string, error) {
	cmd := exec.Command("ldd", file)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil && !strings.Contains(out.String(), "not found") {
		return nil, fmt.Errorf("ldd %s: %v: %s", file, err, errb.String())
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		m := lddLine.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("ldd %s: unexpected line %q", file, line)
		}
		name, target := m[1], m[2]
		if strings.HasPrefix(name, "linux-vdso.so") {
			continue // the kernel's vDSO is no file
		}
		switch {
		case target == "not found":
			got[name] = ""
		case target == "":
			// "\t/lib64/ld-linux-x86-64.so.2 (0x...)": name is the path.
			real, err := filepath.EvalSymlinks(name)
			if err != nil {
				return nil, err
			}
			got[name] = real
		default:
			real, err := filepath.EvalSymlinks(target)
			if err != nil {
				return nil, err
			}
			got[name] = real
		}
	}
	return got, nil
}

// ourClosure is the same map from the resolver's result.
func ourClosure(p Program) map[string]string {
	got := map[string]string{}
	for _, l := range p.Libraries {
		got[l.Name] = l.RealPath
	}
	for _, m := range p.Missing {
		got[m.Name] = ""
	}
	return got
}

func diffClosures(ours, ldd map[string]string) string {
	var b strings.Builder
	names := map[string]bool{}
	for n := range ours {
		names[n] = true
	}
	for n := range ldd {
		names[n] = true
	}
	var sorted []string
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		o, ok1 := ours[n]
		l, ok2 := ldd[n]
		if o != l || ok1 != ok2 {
			fmt.Fprintf(&b, "  %s: ours %q (present %v), ldd %q (present %v)\n", n, o, ok1, l, ok2)
		}
	}
	return b.String()
}

// TestOracleLddUsrBin compares the closure of every dynamic executable in
// /usr/bin with what ldd prints, as name => canonical path. Both sides are
// canonicalised with realpath because ld.so names a library by the
// directory it found it in (/lib/x86_64-linux-gnu from ld.so.cache when
// /lib is a symlink to usr/lib) and we compare files, not spellings;
// linux-vdso is left out because it is not a file. Each executable is
// given by its canonical path to both ldd and the resolver, and each file
// is checked once when several names in /usr/bin lead to it. There are no
// expected exceptions: every difference fails the test.
func TestOracleLddUsrBin(t *testing.T) {
	if _, err := exec.LookPath("ldd"); err != nil {
		t.Fatal("ldd not found; install the Debian package libc-bin")
	}
	files := dynamicExecutables(t, "/usr/bin")
	if len(files) < 100 {
		t.Fatalf("only %d dynamic executables in /usr/bin; expected a normal Debian system", len(files))
	}
	cpu, err := HostCPU()
	if err != nil {
		t.Fatal(err)
	}
	// The same files with the real /etc/ld.so.cache (what ld.so reads)
	// and with the cache emulated from /etc/ld.so.conf (what sysroots
	// without a cache get): both must match ldd.
	modes := []CacheMode{CacheFile, CacheConf}
	closures := make([]*Closure, len(modes))
	for i, m := range modes {
		c, err := Resolve("/", files, Options{CPU: cpu, Cache: m})
		if err != nil {
			t.Fatal(err)
		}
		closures[i] = c
	}
	type result struct {
		file  string
		diffs []string
		err   error
	}
	results := make([]result, len(files))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, f := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			want, err := lddClosure(f)
			if err != nil {
				results[i] = result{file: f, err: err}
				return
			}
			r := result{file: f}
			for _, c := range closures {
				r.diffs = append(r.diffs, diffClosures(ourClosure(c.Programs[i]), want))
			}
			results[i] = r
		}()
	}
	wg.Wait()
	for mi, m := range modes {
		agree := 0
		for _, r := range results {
			switch {
			case r.err != nil:
				if mi == 0 {
					t.Errorf("%s: %v", r.file, r.err)
				}
			case r.diffs[mi] != "":
				t.Errorf("%s differs from ldd (ld.so.cache mode %s):\n%s", r.file, m, r.diffs[mi])
			default:
				agree++
			}
		}
		t.Logf("ld.so.cache mode %s: agreement with ldd %d/%d dynamic executables in /usr/bin (%.2f%%)", m, agree, len(files), 100*float64(agree)/float64(len(files)))
	}
}

// TestOracleSidRoot resolves every dynamic executable in /usr/bin of the
// Debian sid root (glibc 2.43; PORTABLE_SID_ROOT, built by
// tools/offline/sidroot.sh) inside that root, with its ld.so.cache and
// with the cache emulated from its ld.so.conf, and compares each with
// what the root's own loader loads when run chrooted in trace mode. The
// comparison is name => canonical in-root path, as in
// TestOracleLddUsrBin.
func TestOracleSidRoot(t *testing.T) {
	root := debtest.SidRoot(t)
	rfs, err := newRootFS(root)
	if err != nil {
		t.Fatal(err)
	}
	// Every entry of the root's /usr/bin, symlinks followed inside the
	// root (many are absolute links through /etc/alternatives), each file
	// once.
	names, err := rfs.readDir("/usr/bin")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	seen := map[string]bool{}
	for _, n := range names {
		e, err := rfs.resolve("/usr/bin/" + n)
		if err != nil || !e.mode.IsRegular() || seen[e.real] {
			continue
		}
		seen[e.real] = true
		host := rfs.hostPath(e.real)
		if f, err := elf.Open(host); err == nil && f.Linkage == elf.Dynamic && f.Interp != "" {
			files = append(files, host)
		}
	}
	if len(files) < 20 {
		t.Fatalf("only %d dynamic executables in %s/usr/bin", len(files), root)
	}
	cpu, err := HostCPU()
	if err != nil {
		t.Fatal(err)
	}
	modes := []CacheMode{CacheFile, CacheConf}
	closures := make([]*Closure, len(modes))
	for i, m := range modes {
		if closures[i], err = Resolve(root, files, Options{CPU: cpu, Cache: m}); err != nil {
			t.Fatal(err)
		}
	}
	diffs := make([][]string, len(files))
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			in, _ := rfs.inRoot(files[i])
			want, err := chrootClosure(root, in)
			if err != nil {
				errs[i] = err
				return
			}
			for _, c := range closures {
				diffs[i] = append(diffs[i], diffClosures(ourClosure(c.Programs[i]), want))
			}
		}()
	}
	wg.Wait()
	for mi, m := range modes {
		agree := 0
		for i, f := range files {
			switch {
			case errs[i] != nil:
				if mi == 0 {
					t.Error(errs[i])
				}
			case diffs[i][mi] != "":
				t.Errorf("%s differs from the root's ld.so (ld.so.cache mode %s):\n%s", f, m, diffs[i][mi])
			default:
				agree++
			}
		}
		t.Logf("sid root, ld.so.cache mode %s: agreement with its ld.so %d/%d dynamic executables (%.2f%%)", m, agree, len(files), 100*float64(agree)/float64(len(files)))
	}
}
