package hostile

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rules-portable/rules_portable/tests/testutil"
)

// slotOf reads the interp slot of a bundle file from its manifest.
func slotOf(t *testing.T, bundle, file string) (off, size int64) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(bundle, ".portable", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Files []struct {
			Path       string `json:"path"`
			InterpSlot *struct {
				Offset int64 `json:"offset"`
				Size   int64 `json:"size"`
			} `json:"interp_slot"`
		} `json:"files"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Files {
		if f.Path == file && f.InterpSlot != nil {
			return f.InterpSlot.Offset, f.InterpSlot.Size
		}
	}
	t.Fatalf("%s has no interp slot in the manifest", file)
	return 0, 0
}

func writeSlot(t *testing.T, p string, off, size int64, interp string) {
	t.Helper()
	b := make([]byte, size)
	copy(b, interp)
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func cpTree(t *testing.T, src, dst string) string {
	t.Helper()
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, out)
	}
	return dst
}

// expectVerifyFails checks that verify reports exactly the lines want
// (each a prefix of one line of stdout) and exits 1.
func expectVerifyFails(t *testing.T, dir, bundle string, want ...string) {
	t.Helper()
	r := cli(t, dir, nil, "verify", bundle)
	if r.code != 1 {
		t.Fatalf("verify of a tampered bundle: %v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != len(want) {
		t.Fatalf("verify printed %d lines, want %d: %v", len(lines), len(want), r)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q, want it to start with %q", i, lines[i], w)
		}
	}
	if !strings.HasPrefix(r.stderr, "portable: "+bundle+": does not match its manifest: ") {
		t.Errorf("stderr: %q", r.stderr)
	}
}

// TestVerifyTampering changes a fresh bundle the ways an attacker (or an
// accident) would, one change per copy, and checks verify's exact finding.
func TestVerifyTampering(t *testing.T) {
	dir := workDir(t)
	fresh := bundleTrue(t, dir, "fresh")
	if r := cli(t, dir, nil, "verify", "fresh"); r.code != 0 || !strings.HasPrefix(r.stdout, "fresh: ok (") {
		t.Fatalf("fresh bundle: %v", r)
	}
	off, size := slotOf(t, fresh, "libexec/true")

	t.Run("slot names a loader outside the bundle", func(t *testing.T) {
		b := cpTree(t, fresh, filepath.Join(dir, "outside"))
		writeSlot(t, filepath.Join(b, "libexec/true"), off, size, "/tmp/evil/lib/ld-linux-x86-64.so.2")
		expectVerifyFails(t, dir, "outside",
			"libexec/true: changed: interp slot names /tmp/evil/lib/ld-linux-x86-64.so.2, which is not this bundle's loader (/.portable-unrelocated/lib/ld-linux-x86-64.so.2 or "+b+"/lib/ld-linux-x86-64.so.2)")
		// relocate --direct (after which programs run without the
		// launcher) re-points such a slot at the bundle's own loader.
		d := cpTree(t, b, filepath.Join(dir, "outside-direct"))
		if r := cli(t, dir, nil, "relocate", "--direct", "outside-direct"); r.code != 0 {
			t.Fatalf("relocate --direct: %v", r)
		}
		data, err := os.ReadFile(filepath.Join(d, "libexec/true"))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimRight(string(data[off:off+size]), "\x00"); got != d+"/lib/ld-linux-x86-64.so.2" {
			t.Errorf("after relocate --direct the slot names %q", got)
		}
		if r := cli(t, dir, nil, "verify", "outside-direct"); r.code != 0 {
			t.Errorf("verify after relocate --direct: %v", r)
		}
		// Where the bundle really is, the same slot is fine.
		writeSlot(t, filepath.Join(b, "libexec/true"), off, size, b+"/lib/ld-linux-x86-64.so.2")
		if r := cli(t, dir, nil, "verify", "outside"); r.code != 0 {
			t.Errorf("slot naming its own loader: %v", r)
		}
	})

	t.Run("relocate --as is recorded, and only that path is accepted", func(t *testing.T) {
		b := cpTree(t, fresh, filepath.Join(dir, "as"))
		if r := cli(t, dir, nil, "relocate", "--as", "/opt/app", "as"); r.code != 0 {
			t.Fatalf("relocate --as: %v", r)
		}
		if r := cli(t, dir, nil, "verify", "as"); r.code != 0 {
			t.Errorf("verify after relocate --as: %v", r)
		}
		writeSlot(t, filepath.Join(b, "libexec/true"), off, size, "/opt/other/lib/ld-linux-x86-64.so.2")
		expectVerifyFails(t, dir, "as", "libexec/true: changed: interp slot names /opt/other/lib/ld-linux-x86-64.so.2, which is not this bundle's loader")
		if r := cli(t, dir, nil, "verify", "--as", "/opt/other", "as"); r.code != 0 {
			t.Errorf("verify --as the path it is seen at: %v", r)
		}
		r := cli(t, dir, nil, "relocate", "--as", "/opt/\xff", "as")
		expectFail(t, r, 1, `relocate as "/opt/\xff": not valid UTF-8`)
	})

	t.Run("set-UID bit added", func(t *testing.T) {
		b := cpTree(t, fresh, filepath.Join(dir, "setuid"))
		if err := os.Chmod(filepath.Join(b, "libexec/true"), 0o755|os.ModeSetuid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(b, "lib"), 0o755|os.ModeSticky); err != nil {
			t.Fatal(err)
		}
		expectVerifyFails(t, dir, "setuid",
			"lib: mode: 1755, manifest says 0755",
			"libexec/true: mode: 4755, manifest says 0755 (a set-ID bit was added)")
	})

	t.Run("symlink retargeted", func(t *testing.T) {
		b := cpTree(t, fresh, filepath.Join(dir, "direct"))
		if r := cli(t, dir, nil, "relocate", "--direct", "direct"); r.code != 0 {
			t.Fatalf("relocate --direct: %v", r)
		}
		if r := cli(t, dir, nil, "verify", "direct"); r.code != 0 {
			t.Fatalf("verify after relocate --direct: %v", r)
		}
		link := filepath.Join(b, "bin/true")
		os.Remove(link)
		if err := os.Symlink("/bin/false", link); err != nil {
			t.Fatal(err)
		}
		expectVerifyFails(t, dir, "direct", `bin/true: changed: points to "/bin/false", manifest says "../libexec/true"`)
	})

	t.Run("size checked before the hash", func(t *testing.T) {
		b := cpTree(t, fresh, filepath.Join(dir, "huge"))
		libc := filepath.Join(b, "lib/libc.so.6")
		st, err := os.Stat(libc)
		if err != nil {
			t.Fatal(err)
		}
		// 1 TiB, sparse: hashing it would take hours, so finishing within
		// the hang limit shows it was never read.
		if err := os.Truncate(libc, 1<<40); err != nil {
			t.Fatal(err)
		}
		expectVerifyFails(t, dir, "huge", "lib/libc.so.6: changed: size 1099511627776, manifest says "+strconv.FormatInt(st.Size(), 10))
	})

	t.Run("the launcher's lock replaced", func(t *testing.T) {
		for name, mk := range map[string]func(p string) error{
			"set-UID program": func(p string) error {
				testutil.CopyFile(t, "/bin/true", p, 0o755)
				return os.Chmod(p, 0o755|os.ModeSetuid)
			},
			"FIFO":    func(p string) error { return syscall.Mkfifo(p, 0o644) },
			"symlink": func(p string) error { return os.Symlink("/etc/shadow", p) },
		} {
			b := cpTree(t, fresh, filepath.Join(dir, "lock-"+strings.ReplaceAll(name, " ", "-")))
			if err := mk(filepath.Join(b, ".portable/lock")); err != nil {
				t.Fatal(err)
			}
			expectVerifyFails(t, dir, filepath.Base(b), ".portable/lock: changed: the launcher's lock must be an empty regular file without execute or set-ID bits")
		}
		// The lock the launcher makes is fine.
		b := cpTree(t, fresh, filepath.Join(dir, "lock-ok"))
		if err := os.WriteFile(filepath.Join(b, ".portable/lock"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if r := cli(t, dir, nil, "verify", "lock-ok"); r.code != 0 {
			t.Errorf("an empty 0644 lock: %v", r)
		}
	})

	t.Run("world-writable root and records", func(t *testing.T) {
		b := cpTree(t, fresh, filepath.Join(dir, "open"))
		if err := os.Chmod(b, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(b, ".portable"), 0o777); err != nil {
			t.Fatal(err)
		}
		expectVerifyFails(t, dir, "open",
			".: mode: 0777: the bundle's root directory is world-writable",
			".portable: mode: 0777, manifest says 0755")
	})

	t.Run("a flipped byte", func(t *testing.T) {
		b := cpTree(t, fresh, filepath.Join(dir, "flipped"))
		libc := filepath.Join(b, "lib/libc.so.6")
		data, err := os.ReadFile(libc)
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)/2] ^= 0x40
		if err := os.WriteFile(libc, data, 0o755); err != nil {
			t.Fatal(err)
		}
		expectVerifyFails(t, dir, "flipped", "lib/libc.so.6: changed: sha256 ")
	})
}

// TestNonUTF8Names: a program whose name is not valid UTF-8 could not be
// recorded losslessly in the JSON manifest; it is refused up front.
func TestNonUTF8Names(t *testing.T) {
	dir := workDir(t)
	name := "tr\xffue"
	testutil.CopyFile(t, "/bin/true", filepath.Join(dir, name), 0o755)
	r := cli(t, dir, nil, "bundle", "-o", "out", name)
	expectFail(t, r, 1, `bundle path "libexec/tr\xffue"`, "not valid UTF-8; bundles record names as UTF-8 text")
	mustNotExist(t, filepath.Join(dir, "out"))
	// With a UTF-8 destination through --add it bundles.
	if err := os.Mkdir(filepath.Join(dir, "tree"), 0o755); err != nil {
		t.Fatal(err)
	}
	testutil.CopyFile(t, "/bin/true", filepath.Join(dir, "tree", name), 0o644)
	r = cli(t, dir, nil, "bundle", "-o", "out", "--add", "tree=data", "/bin/true")
	expectFail(t, r, 1, `bundle path "libexec/data/tr\xffue"`, "not valid UTF-8")
	r = cli(t, dir, nil, "bundle", "-o", "out", "--add", "tree/"+name+"=data/true.bin", "/bin/true")
	if r.code != 0 {
		t.Fatalf("--add with a UTF-8 DEST: %v", r)
	}
	if r := cli(t, dir, nil, "verify", "out"); r.code != 0 {
		t.Errorf("verify: %v", r)
	}
}
