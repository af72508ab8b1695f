package hostile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rules-portable/rules_portable/tests/testutil"
)

func owner(t *testing.T, p string) (uid, gid uint32, mode os.FileMode) {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	s := st.Sys().(*syscall.Stat_t)
	return s.Uid, s.Gid, st.Mode()
}

func wantOwner(t *testing.T, p string, uid, gid uint32, mode os.FileMode) {
	t.Helper()
	u, g, m := owner(t, p)
	if u != uid || g != gid || m != mode {
		t.Errorf("%s: owner %d:%d mode %v, want %d:%d %v", p, u, g, m, uid, gid, mode)
	}
}

func rpathOf(t *testing.T, dir, p string) string {
	t.Helper()
	r := cli(t, dir, nil, "inspect", "--json", p)
	if r.code != 0 {
		t.Fatalf("inspect %s: %v", p, r)
	}
	return r.stdout
}

// TestSetIDOwnership: patching never turns a set-ID program of one user
// into a set-ID program of another, whoever runs it.
func TestSetIDOwnership(t *testing.T) {
	needRoot(t)
	dir := workDir(t)

	t.Run("root patches another user's set-UID program in place", func(t *testing.T) {
		p := filepath.Join(dir, "suid-inplace")
		testutil.CopyFile(t, "/bin/true", p, 0o755)
		if err := os.Chown(p, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o755|os.ModeSetuid); err != nil {
			t.Fatal(err)
		}
		if r := cli(t, dir, nil, "patch", "--set-rpath", "/opt/x", p); r.code != 0 {
			t.Fatalf("patch: %v", r)
		}
		// The replacement keeps its user and group, so the bit is the
		// same grant as before.
		wantOwner(t, p, 65534, 65534, 0o755|os.ModeSetuid)
		if !strings.Contains(rpathOf(t, dir, p), "/opt/x") {
			t.Error("not patched")
		}
	})

	t.Run("root patches it to a new -o", func(t *testing.T) {
		src := filepath.Join(dir, "suid-src")
		testutil.CopyFile(t, "/bin/true", src, 0o755)
		os.Chown(src, 65534, 65534)
		os.Chmod(src, 0o755|os.ModeSetuid|os.ModeSetgid)
		out := filepath.Join(dir, "suid-out")
		if r := cli(t, dir, nil, "patch", "--set-rpath", "/opt/x", "-o", out, src); r.code != 0 {
			t.Fatalf("patch: %v", r)
		}
		// A new file is the caller's (root's), never handed to the
		// input's owner, who could then rewrite what root placed; the
		// set-ID bits were nobody's grant, so they go.
		wantOwner(t, out, 0, 0, 0o755)
	})

	t.Run("root patches it over an existing -o of another user", func(t *testing.T) {
		src := filepath.Join(dir, "suid-src2")
		testutil.CopyFile(t, "/bin/true", src, 0o755)
		os.Chown(src, 65534, 65534)
		os.Chmod(src, 0o755|os.ModeSetuid)
		out := filepath.Join(dir, "theirs")
		testutil.CopyFile(t, "/bin/true", out, 0o755)
		os.Chown(out, 65534, 65534)
		if r := cli(t, dir, nil, "patch", "--set-rpath", "/opt/x", "-o", out, src); r.code != 0 {
			t.Fatalf("patch: %v", r)
		}
		// The replaced file gives the owner; that is the input's owner
		// too, so the set-UID grant is unchanged.
		wantOwner(t, out, 65534, 65534, 0o755|os.ModeSetuid)
	})

	t.Run("nobody copies root's set-UID program with -o", func(t *testing.T) {
		shared := filepath.Join(dir, "shared")
		if err := os.Mkdir(shared, 0o777); err != nil {
			t.Fatal(err)
		}
		os.Chmod(shared, 0o777)
		src := filepath.Join(shared, "root-suid")
		testutil.CopyFile(t, "/bin/true", src, 0o755)
		os.Chmod(src, 0o755|os.ModeSetuid)
		out := filepath.Join(shared, "mine")
		if r := cli(t, shared, nobody, "patch", "--set-rpath", "/opt/x", "-o", out, src); r.code != 0 {
			t.Fatalf("patch as nobody: %v", r)
		}
		// nobody cannot give the copy to root: the bit goes.
		wantOwner(t, out, 65534, 65534, 0o755)
		wantOwner(t, src, 0, 0, 0o755|os.ModeSetuid)
	})

	t.Run("a hard link keeps the old content", func(t *testing.T) {
		a := filepath.Join(dir, "linked-a")
		b := filepath.Join(dir, "linked-b")
		testutil.CopyFile(t, "/bin/true", a, 0o755)
		if err := os.Link(a, b); err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(b)
		if r := cli(t, dir, nil, "patch", "--set-rpath", "/opt/x", a); r.code != 0 {
			t.Fatalf("patch: %v", r)
		}
		after, _ := os.ReadFile(b)
		if !bytes.Equal(before, after) {
			t.Error("the other name of a hard link changed: patch must replace the name it was given, as documented")
		}
		if !strings.Contains(rpathOf(t, dir, a), "/opt/x") {
			t.Error("not patched")
		}
	})
}

// TestSymlinkOutputs: an output path that is a symlink is refused, naming
// it, and the link and what it points to stay as they were.
func TestSymlinkOutputs(t *testing.T) {
	dir := workDir(t)
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("empty", filepath.Join(dir, "dirlink")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("target.tar", filepath.Join(dir, "arclink.tar")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("elsewhere", filepath.Join(dir, "filelink")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		link string
	}{
		{"bundle -o symlink to an empty directory", []string{"bundle", "-o", "dirlink", "/bin/true"}, "dirlink"},
		{"bundle -o symlink named like an archive", []string{"bundle", "-o", "arclink.tar", "/bin/true"}, "arclink.tar"},
		{"bundle --tar symlink", []string{"bundle", "-o", "d", "--tar", "arclink.tar", "/bin/true"}, "arclink.tar"},
		{"patch -o symlink", []string{"patch", "--set-rpath", "/x", "-o", "filelink", "/bin/true"}, "filelink"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, _ := os.Readlink(filepath.Join(dir, c.link))
			r := cli(t, dir, nil, c.args...)
			expectFail(t, r, 1, c.link+": is a symlink (to "+before+"), which ", "; give the path it names, or remove the link")
			if after, err := os.Readlink(filepath.Join(dir, c.link)); err != nil || after != before {
				t.Errorf("the link changed: %q %v", after, err)
			}
			ents, _ := os.ReadDir(filepath.Join(dir, "empty"))
			if len(ents) != 0 {
				t.Errorf("something was written through the link: %v", ents)
			}
			mustNotExist(t, filepath.Join(dir, "d"), filepath.Join(dir, "target.tar"), filepath.Join(dir, "elsewhere"))
			if l := leftovers(t, dir); len(l) > 0 {
				t.Errorf("left behind: %v", l)
			}
		})
	}
}
