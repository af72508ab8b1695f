package deps

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The tests in this file build real ELF files with gcc. Those resolved
// with root "/" live in a temporary directory named by absolute RPATHs,
// so the real ld.so can be asked through ldd (on these test-built,
// trusted files only) and must agree.

// lib returns the resolved library called name, failing if absent.
func lib(t *testing.T, p Program, name string) Library {
	t.Helper()
	for _, l := range p.Libraries {
		if l.Name == name {
			return l
		}
	}
	t.Fatalf("%s not in the closure of %s:\n%s", name, p.Path, mapString(closureMap(p)))
	return Library{}
}

func missing(t *testing.T, p Program, name string) Missing {
	t.Helper()
	for _, m := range p.Missing {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("%s not missing from the closure of %s:\n%s", name, p.Path, mapString(closureMap(p)))
	return Missing{}
}

// lddError runs ldd on a test-built program that ld.so refuses and
// returns its error output.
func lddError(t *testing.T, exe string) string {
	t.Helper()
	needTool(t, "ldd", "libc-bin")
	cmd := exec.Command("ldd", exe)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run()
	return out.String()
}

func TestRPathAppliesToTransitiveDepsRunPathDoesNot(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	a, b := filepath.Join(d, "a"), filepath.Join(d, "b")
	buildLib(t, filepath.Join(b, "libb.so.1"), spec{soname: "libb.so.1"})
	buildLib(t, filepath.Join(a, "liba.so.1"), spec{soname: "liba.so.1", needed: []string{"libb.so.1"}})
	withRPath := filepath.Join(d, "with-rpath")
	withRunPath := filepath.Join(d, "with-runpath")
	buildExe(t, withRPath, spec{needed: []string{"liba.so.1"}, rpath: a + ":" + b})
	buildExe(t, withRunPath, spec{needed: []string{"liba.so.1"}, runpath: a + ":" + b})

	p := resolveOne(t, "/", withRPath, Options{})
	if l := lib(t, p, "libb.so.1"); l.RealPath != filepath.Join(b, "libb.so.1") || l.Source != SourceRPath {
		t.Errorf("libb.so.1 = %+v, want %s via rpath", l, filepath.Join(b, "libb.so.1"))
	}
	if l := lib(t, p, "libb.so.1"); len(l.NeededBy) != 1 || l.NeededBy[0] != filepath.Join(a, "liba.so.1") {
		t.Errorf("libb.so.1 needed_by = %q", l.NeededBy)
	}
	checkLdd(t, withRPath, p)

	p = resolveOne(t, "/", withRunPath, Options{})
	if l := lib(t, p, "liba.so.1"); l.Source != SourceRunPath {
		t.Errorf("liba.so.1 found via %s, want runpath", l.Source)
	}
	if m := missing(t, p, "libb.so.1"); m.Reason != "not found" || m.NeededBy[0] != filepath.Join(a, "liba.so.1") {
		t.Errorf("libb.so.1 missing entry %+v", m)
	}
	checkLdd(t, withRunPath, p)
}

func TestRPathOfLoaderChainAndRunPathOfLoaderDisablesIt(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	a, b, c := filepath.Join(d, "a"), filepath.Join(d, "b"), filepath.Join(d, "c")
	buildLib(t, filepath.Join(c, "libc3.so.1"), spec{soname: "libc3.so.1"})
	// libb has no paths of its own; libc3 is found through the RPATH of
	// liba, the object that loaded libb.
	buildLib(t, filepath.Join(b, "libb.so.1"), spec{soname: "libb.so.1", needed: []string{"libc3.so.1"}})
	buildLib(t, filepath.Join(a, "liba.so.1"), spec{soname: "liba.so.1", needed: []string{"libb.so.1"}, rpath: c})
	exe := filepath.Join(d, "exe")
	buildExe(t, exe, spec{needed: []string{"liba.so.1"}, rpath: a + ":" + b})
	p := resolveOne(t, "/", exe, Options{})
	if l := lib(t, p, "libc3.so.1"); l.RealPath != filepath.Join(c, "libc3.so.1") {
		t.Errorf("libc3.so.1 at %s, want %s", l.RealPath, filepath.Join(c, "libc3.so.1"))
	}
	checkLdd(t, exe, p)

	// Same chain, but libb carries a DT_RUNPATH (pointing nowhere useful):
	// ld.so then skips every DT_RPATH for libb's needs.
	d2 := t.TempDir()
	a2, b2, c2 := filepath.Join(d2, "a"), filepath.Join(d2, "b"), filepath.Join(d2, "c")
	buildLib(t, filepath.Join(c2, "libc3.so.1"), spec{soname: "libc3.so.1"})
	buildLib(t, filepath.Join(b2, "libb.so.1"), spec{soname: "libb.so.1", needed: []string{"libc3.so.1"}, runpath: filepath.Join(d2, "nowhere")})
	buildLib(t, filepath.Join(a2, "liba.so.1"), spec{soname: "liba.so.1", needed: []string{"libb.so.1"}, rpath: c2})
	exe2 := filepath.Join(d2, "exe")
	buildExe(t, exe2, spec{needed: []string{"liba.so.1"}, rpath: a2 + ":" + b2 + ":" + c2})
	p = resolveOne(t, "/", exe2, Options{})
	missing(t, p, "libc3.so.1")
	checkLdd(t, exe2, p)
}

func TestOriginIsTheDirectoryALibraryWasFoundIn(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	// lib/libo.so.1 is a symlink into real/; $ORIGIN of libo is lib/
	// (where ld.so found it), so its ${ORIGIN}/sub is lib/sub.
	buildLib(t, filepath.Join(d, "real/libo.so.1.0"), spec{soname: "libo.so.1", needed: []string{"libsub.so.1"}, runpath: "${ORIGIN}/sub"})
	buildLib(t, filepath.Join(d, "lib/sub/libsub.so.1"), spec{soname: "libsub.so.1"})
	buildLib(t, filepath.Join(d, "real/sub/libsub.so.1"), spec{soname: "libsub.so.1"}) // decoy
	tree(t, d, map[string]string{"lib/libo.so.1@": "../real/libo.so.1.0"})
	exe := filepath.Join(d, "bin/app")
	buildExe(t, exe, spec{needed: []string{"libo.so.1"}, rpath: "$ORIGIN/../lib"})
	p := resolveOne(t, "/", exe, Options{})
	l := lib(t, p, "libo.so.1")
	if want := d + "/bin/../lib/libo.so.1"; l.Path != want {
		t.Errorf("libo.so.1 path %q, want ld.so's uncleaned %q", l.Path, want)
	}
	if want := filepath.Join(d, "real/libo.so.1.0"); l.RealPath != want {
		t.Errorf("libo.so.1 real path %q, want %q", l.RealPath, want)
	}
	if l := lib(t, p, "libsub.so.1"); l.RealPath != filepath.Join(d, "lib/sub/libsub.so.1") {
		t.Errorf("libsub.so.1 at %s, want lib/sub", l.RealPath)
	}
	checkLdd(t, exe, p)
}

func TestWrongClassAndMachineAreSkipped(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	a, b := filepath.Join(d, "a"), filepath.Join(d, "b")
	buildLib(t, filepath.Join(a, "libw.so.1"), spec{soname: "libw.so.1", m32: true})
	buildLib(t, filepath.Join(b, "libw.so.1"), spec{soname: "libw.so.1"})
	exe := filepath.Join(d, "exe")
	buildExe(t, exe, spec{needed: []string{"libw.so.1"}, rpath: a + ":" + b})
	p := resolveOne(t, "/", exe, Options{})
	if l := lib(t, p, "libw.so.1"); l.RealPath != filepath.Join(b, "libw.so.1") {
		t.Errorf("libw.so.1 at %s, want the 64-bit one in b", l.RealPath)
	}
	checkLdd(t, exe, p)

	only32 := filepath.Join(d, "only32")
	buildExe(t, only32, spec{needed: []string{"libw.so.1"}, rpath: a})
	p = resolveOne(t, "/", only32, Options{})
	if m := missing(t, p, "libw.so.1"); m.Reason != "wrong ELF class: ELFCLASS32" {
		t.Errorf("reason %q", m.Reason)
	}
	checkLdd(t, only32, p)

	// Another machine of the same class: a real aarch64 library.
	const arm = "/usr/aarch64-linux-gnu/lib/libc.so.6"
	if _, err := os.Stat(arm); err != nil {
		t.Fatalf("%s missing; install the Debian package libc6-arm64-cross", arm)
	}
	m := filepath.Join(d, "m")
	copyFile(t, arm, filepath.Join(m, "libw.so.1"))
	otherMachine := filepath.Join(d, "other-machine")
	buildExe(t, otherMachine, spec{needed: []string{"libw.so.1"}, rpath: m + ":" + b})
	p = resolveOne(t, "/", otherMachine, Options{})
	if l := lib(t, p, "libw.so.1"); l.RealPath != filepath.Join(b, "libw.so.1") {
		t.Errorf("libw.so.1 at %s, want the x86_64 one in b", l.RealPath)
	}
	checkLdd(t, otherMachine, p)
}

func TestFilesThatStopLdSo(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		files  map[string]string // in dir a
		reason string            // our reason, after "<path>: "
		ldd    string            // what ld.so says
	}{
		{"directory", map[string]string{"libw.so.1/": ""}, "cannot read file data: Is a directory", "cannot read file data"},
		{"text", map[string]string{"libw.so.1": strings.Repeat("not an ELF file\n", 8)}, "invalid ELF header", "invalid ELF header"},
		{"short", map[string]string{"libw.so.1": "tiny\n"}, "file too short", "file too short"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := t.TempDir()
			a, b := filepath.Join(d, "a"), filepath.Join(d, "b")
			tree(t, a, tc.files)
			buildLib(t, filepath.Join(b, "libw.so.1"), spec{soname: "libw.so.1"})
			exe := filepath.Join(d, "exe")
			buildExe(t, exe, spec{needed: []string{"libw.so.1"}, rpath: a + ":" + b})
			p := resolveOne(t, "/", exe, Options{})
			m := missing(t, p, "libw.so.1")
			if want := filepath.Join(a, "libw.so.1") + ": " + tc.reason; m.Reason != want {
				t.Errorf("reason %q, want %q", m.Reason, want)
			}
			if out := lddError(t, exe); !strings.Contains(out, tc.ldd) {
				t.Errorf("ldd does not agree that ld.so stops: %s", out)
			}
		})
	}
}

func TestSymlinkLoopEndsTheSearchList(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	a, b := filepath.Join(d, "a"), filepath.Join(d, "b")
	tree(t, a, map[string]string{"libw.so.1@": "libw.so.1"})
	buildLib(t, filepath.Join(b, "libw.so.1"), spec{soname: "libw.so.1"})
	exe := filepath.Join(d, "exe")
	buildExe(t, exe, spec{needed: []string{"libw.so.1"}, rpath: a + ":" + b})
	// ld.so gives up on the whole DT_RPATH list after ELOOP in a, so b
	// is never tried.
	p := resolveOne(t, "/", exe, Options{})
	missing(t, p, "libw.so.1")
	checkLdd(t, exe, p)
	// A later step of the search still runs.
	p = resolveOne(t, "/", exe, Options{LibraryPath: b})
	if l := lib(t, p, "libw.so.1"); l.Source != SourceLibraryPath {
		t.Errorf("found via %s, want library-path", l.Source)
	}
}

func TestGlibcHWCaps(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	buildLib(t, filepath.Join(d, "glibc-hwcaps/x86-64-v3/libh.so.1"), spec{soname: "libh.so.1"})
	buildLib(t, filepath.Join(d, "glibc-hwcaps/x86-64-v2/libh.so.1"), spec{soname: "libh.so.1"})
	buildLib(t, filepath.Join(d, "libh.so.1"), spec{soname: "libh.so.1"})
	buildLib(t, filepath.Join(d, "glibc-hwcaps/x86-64-v2/libv2only.so.1"), spec{soname: "libv2only.so.1"})
	exe := filepath.Join(d, "exe")
	buildExe(t, exe, spec{needed: []string{"libh.so.1", "libv2only.so.1"}, rpath: d})
	for _, tc := range []struct {
		hwcaps []string
		want   string
	}{
		{nil, "libh.so.1"},
		{[]string{HWCapX86_64V2}, "glibc-hwcaps/x86-64-v2/libh.so.1"},
		{[]string{HWCapX86_64V3, HWCapX86_64V2}, "glibc-hwcaps/x86-64-v3/libh.so.1"},
		{[]string{HWCapX86_64V4, HWCapX86_64V3, HWCapX86_64V2}, "glibc-hwcaps/x86-64-v3/libh.so.1"},
	} {
		p := resolveOne(t, "/", exe, Options{CPU: CPU{HWCaps: tc.hwcaps}, Legacy: LegacyOff})
		if l := lib(t, p, "libh.so.1"); l.RealPath != filepath.Join(d, tc.want) {
			t.Errorf("hwcaps %v: libh.so.1 at %s, want %s", tc.hwcaps, l.RealPath, tc.want)
		}
		if len(tc.hwcaps) == 0 {
			missing(t, p, "libv2only.so.1")
		}
	}
	cpu, err := HostCPU()
	if err != nil {
		t.Fatal(err)
	}
	checkLdd(t, exe, resolveOne(t, "/", exe, Options{CPU: cpu}))
}

func TestLegacyHWCapSubdirectories(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	buildLib(t, filepath.Join(d, "tls/libt.so.1"), spec{soname: "libt.so.1"})
	buildLib(t, filepath.Join(d, "libt.so.1"), spec{soname: "libt.so.1"})
	exe := filepath.Join(d, "exe")
	buildExe(t, exe, spec{needed: []string{"libt.so.1"}, rpath: d})
	if l := lib(t, resolveOne(t, "/", exe, Options{Legacy: LegacyOn}), "libt.so.1"); l.RealPath != filepath.Join(d, "tls/libt.so.1") {
		t.Errorf("legacy on: %s", l.RealPath)
	}
	if l := lib(t, resolveOne(t, "/", exe, Options{Legacy: LegacyOff}), "libt.so.1"); l.RealPath != filepath.Join(d, "libt.so.1") {
		t.Errorf("legacy off: %s", l.RealPath)
	}
	// auto: decided by the loader's glibc release; this machine's ld.so
	// is the oracle for whatever release it is.
	cpu, err := HostCPU()
	if err != nil {
		t.Fatal(err)
	}
	checkLdd(t, exe, resolveOne(t, "/", exe, Options{CPU: cpu}))
}

func TestSearchOrderLibraryPathBetweenRPathAndRunPath(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	a, b := filepath.Join(d, "a"), filepath.Join(d, "b")
	buildLib(t, filepath.Join(a, "libx.so.1"), spec{soname: "libx.so.1"})
	buildLib(t, filepath.Join(b, "libx.so.1"), spec{soname: "libx.so.1"})
	rp := filepath.Join(d, "rp")
	rn := filepath.Join(d, "rn")
	buildExe(t, rp, spec{needed: []string{"libx.so.1"}, rpath: b})
	buildExe(t, rn, spec{needed: []string{"libx.so.1"}, runpath: b})
	if l := lib(t, resolveOne(t, "/", rp, Options{LibraryPath: a}), "libx.so.1"); l.RealPath != filepath.Join(b, "libx.so.1") {
		t.Errorf("DT_RPATH must win over LD_LIBRARY_PATH: %s", l.RealPath)
	}
	if l := lib(t, resolveOne(t, "/", rn, Options{LibraryPath: a}), "libx.so.1"); l.RealPath != filepath.Join(a, "libx.so.1") {
		t.Errorf("LD_LIBRARY_PATH must win over DT_RUNPATH: %s", l.RealPath)
	}
	// $ORIGIN in the library path is the program's directory.
	if l := lib(t, resolveOne(t, "/", rn, Options{LibraryPath: "/nowhere;$ORIGIN/a"}), "libx.so.1"); l.RealPath != filepath.Join(a, "libx.so.1") {
		t.Errorf("$ORIGIN/a in library path: %s", l.RealPath)
	}
}

func TestLoadedObjectsAreReusedBySONameAndFile(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	a := filepath.Join(d, "a")
	// libalias.so's SONAME is libs.so.1, so the later DT_NEEDED libs.so.1
	// reuses it although a/libs.so.1 is another file.
	buildLib(t, filepath.Join(a, "libalias.so"), spec{soname: "libs.so.1"})
	buildLib(t, filepath.Join(a, "libs.so.1"), spec{soname: "libs.so.1"})
	// libx.so and libx.so.1 are one file (no SONAME match: it says
	// libother.so.9): ld.so notices by device and inode.
	buildLib(t, filepath.Join(a, "libx.so.1"), spec{soname: "libother.so.9"})
	tree(t, a, map[string]string{"libx.so@": "libx.so.1"})
	exe := filepath.Join(d, "exe")
	buildExe(t, exe, spec{needed: []string{"libalias.so", "libs.so.1", "libx.so", "libx.so.1"}, rpath: a})
	p := resolveOne(t, "/", exe, Options{})
	if len(p.Libraries) != 3 { // libalias.so, libx.so, the interpreter
		t.Errorf("closure has %d objects, want 3:\n%s", len(p.Libraries), mapString(closureMap(p)))
	}
	if l := lib(t, p, "libalias.so"); l.SOName != "libs.so.1" {
		t.Errorf("libalias.so soname %q", l.SOName)
	}
	checkLdd(t, exe, p)
}

func TestNeededWithSlashIsAPath(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	buildLib(t, filepath.Join(d, "plugins/libp.so"), spec{soname: "libp.so"})
	exe := filepath.Join(d, "exe")
	buildExe(t, exe, spec{needed: []string{"$ORIGIN/plugins/libp.so", filepath.Join(d, "nope/libq.so")}})
	p := resolveOne(t, "/", exe, Options{})
	if l := lib(t, p, "$ORIGIN/plugins/libp.so"); l.Source != SourcePath || l.Path != filepath.Join(d, "plugins/libp.so") {
		t.Errorf("got %+v", l)
	}
	missing(t, p, filepath.Join(d, "nope/libq.so"))
}

// fixtureRoot builds a root with the x86_64 loader and a merged /usr.
func fixtureRoot(t *testing.T) string {
	root := t.TempDir()
	tree(t, root, map[string]string{
		"usr/lib/x86_64-linux-gnu/": "",
		"usr/bin/":                  "",
		"lib@":                      "usr/lib",
	})
	withLoader(t, root)
	return root
}

func TestSymlinksStayInsideTheRoot(t *testing.T) {
	t.Parallel()
	root := fixtureRoot(t)
	ml := filepath.Join(root, "usr/lib/x86_64-linux-gnu")
	buildLib(t, filepath.Join(root, "opt/real/libz.so.1"), spec{soname: "libz.so.1"})
	buildLib(t, filepath.Join(root, "opt/real/libq.so.1"), spec{soname: "libq.so.1"})
	tree(t, ml, map[string]string{
		// absolute: re-rooted at the fixture root
		"libz.so.1@": "/opt/real/libz.so.1",
		// ".." clamps at the root
		"libq.so.1@": "../../../../../../../../../opt/real/libq.so.1",
		// exists on this machine, but not in the root: must not be used
		"libhost.so.6@": "/usr/lib/x86_64-linux-gnu/libc.so.6",
	})
	exe := filepath.Join(root, "usr/bin/app")
	buildExe(t, exe, spec{needed: []string{"libz.so.1", "libq.so.1", "libhost.so.6"}})
	for _, mode := range []CacheMode{CacheAuto, CacheConf, CacheNone} {
		p := resolveOne(t, root, exe, Options{Cache: mode})
		z := lib(t, p, "libz.so.1")
		if z.Path != "/lib/x86_64-linux-gnu/libz.so.1" || z.RealPath != "/opt/real/libz.so.1" || z.HostPath != filepath.Join(root, "opt/real/libz.so.1") || z.Source != SourceDefault {
			t.Errorf("%s: libz.so.1 = %+v", mode, z)
		}
		if q := lib(t, p, "libq.so.1"); q.RealPath != "/opt/real/libq.so.1" {
			t.Errorf("%s: libq.so.1 at %s", mode, q.RealPath)
		}
		missing(t, p, "libhost.so.6")
		interp := lib(t, p, "/lib64/ld-linux-x86-64.so.2")
		if !interp.Interpreter || interp.HostPath != filepath.Join(root, "lib64/ld-linux-x86-64.so.2") {
			t.Errorf("%s: interpreter %+v", mode, interp)
		}
		if p.Path != "/usr/bin/app" {
			t.Errorf("program path %q, want the in-root /usr/bin/app", p.Path)
		}
	}
	// The root has no ld.so.cache, so its ld.so only has its trusted
	// directories: the same as CacheNone.
	checkChroot(t, root, "/usr/bin/app", resolveOne(t, root, exe, Options{Cache: CacheNone}))
}

func TestProgramOutsideTheRootKeepsItsOrigin(t *testing.T) {
	t.Parallel()
	root := fixtureRoot(t)
	buildLib(t, filepath.Join(root, "usr/lib/x86_64-linux-gnu/libsys.so.1"), spec{soname: "libsys.so.1"})
	build := t.TempDir()
	buildLib(t, filepath.Join(build, "solib/libmine.so"), spec{soname: "libmine.so", needed: []string{"libsys.so.1"}})
	exe := filepath.Join(build, "bin/app")
	buildExe(t, exe, spec{needed: []string{"libmine.so"}, runpath: "$ORIGIN/../solib"})
	p := resolveOne(t, root, exe, Options{})
	if !p.Outside {
		t.Errorf("program not marked outside the root")
	}
	mine := lib(t, p, "libmine.so")
	if !mine.Outside || mine.RealPath != filepath.Join(build, "solib/libmine.so") {
		t.Errorf("libmine.so = %+v", mine)
	}
	if sys := lib(t, p, "libsys.so.1"); sys.Outside || sys.RealPath != "/usr/lib/x86_64-linux-gnu/libsys.so.1" {
		t.Errorf("libsys.so.1 = %+v", sys)
	}
}

func TestLDConfIncludesAndOrder(t *testing.T) {
	t.Parallel()
	root := fixtureRoot(t)
	tree(t, root, map[string]string{
		"etc/ld.so.conf": "include ld.so.conf.d/*.conf\n/opt/first\n",
		// the include directory is an absolute symlink: re-rooted
		"etc/ld.so.conf.d@":        "/conf",
		"conf/b.conf":              "/opt/b # comment\n",
		"conf/a.conf":              "include /etc/extra/*.conf\n  /opt/a/ \n",
		"conf/.hidden.conf":        "/opt/hidden\n",
		"conf/notconf":             "/opt/notconf\n",
		"etc/extra/x.conf":         "/opt/x=libc6\nhwcap 1 foo\n",
		"opt/first/":               "",
		"opt/a/":                   "",
		"opt/b/":                   "",
		"opt/x/":                   "",
		"opt/hidden/":              "",
		"opt/alias@":               "b",
		"etc/extra/alias.conf.off": "",
	})
	r, err := newRootFS(root)
	must(t, err)
	conf, err := readLDConf(r, "/etc/ld.so.conf")
	must(t, err)
	var got []string
	for _, c := range conf {
		got = append(got, c.Dir)
	}
	if want := "/opt/x /opt/a /opt/b /opt/first"; strings.Join(got, " ") != want {
		t.Errorf("ld.so.conf dirs %q, want %q", got, want)
	}
	buildLib(t, filepath.Join(root, "opt/b/libc1.so.1"), spec{soname: "libc1.so.1"})
	buildLib(t, filepath.Join(root, "opt/first/libc1.so.1"), spec{soname: "libc1.so.1"})
	buildLib(t, filepath.Join(root, "opt/hidden/libc2.so.1"), spec{soname: "libc2.so.1"})
	// A cache ranks glibc-hwcaps entries of every directory before plain
	// ones: the v2 variant in the later /opt/first beats /opt/a.
	buildLib(t, filepath.Join(root, "opt/a/libc3.so.1"), spec{soname: "libc3.so.1"})
	buildLib(t, filepath.Join(root, "opt/first/glibc-hwcaps/x86-64-v2/libc3.so.1"), spec{soname: "libc3.so.1"})
	exe := filepath.Join(root, "usr/bin/app")
	buildExe(t, exe, spec{needed: []string{"libc1.so.1", "libc2.so.1", "libc3.so.1"}})
	p := resolveOne(t, root, exe, Options{Cache: CacheConf})
	if l := lib(t, p, "libc1.so.1"); l.Path != "/opt/b/libc1.so.1" || l.Source != SourceConf {
		t.Errorf("libc1.so.1 = %+v, want /opt/b via ld.so.conf", l)
	}
	missing(t, p, "libc2.so.1")
	if l := lib(t, p, "libc3.so.1"); l.Path != "/opt/a/libc3.so.1" {
		t.Errorf("no hwcaps: libc3.so.1 at %s", l.Path)
	}
	v2 := resolveOne(t, root, exe, Options{Cache: CacheConf, CPU: CPU{HWCaps: []string{HWCapX86_64V2}}})
	if l := lib(t, v2, "libc3.so.1"); l.Path != "/opt/first/glibc-hwcaps/x86-64-v2/libc3.so.1" {
		t.Errorf("hwcaps v2: libc3.so.1 at %s", l.Path)
	}
	// without a cache file, auto emulates it from ld.so.conf
	if l := lib(t, resolveOne(t, root, exe, Options{}), "libc1.so.1"); l.Source != SourceConf {
		t.Errorf("auto without a cache file used %s", l.Source)
	}
	missing(t, resolveOne(t, root, exe, Options{Cache: CacheNone}), "libc1.so.1")

	// The oracle: ldconfig run inside the root builds the real cache from
	// the same configuration, and the root's ld.so uses it. The emulation
	// must give what ld.so then loads.
	cpu, err := HostCPU()
	must(t, err)
	emulated := resolveOne(t, root, exe, Options{Cache: CacheConf, CPU: cpu})
	ldconfigInRoot(t, root)
	checkChroot(t, root, "/usr/bin/app", emulated)
}

func TestLDConfIncludeCycleIsAnError(t *testing.T) {
	t.Parallel()
	root := fixtureRoot(t)
	tree(t, root, map[string]string{
		"etc/ld.so.conf":          "include /etc/ld.so.conf.d/*.conf\n",
		"etc/ld.so.conf.d/a.conf": "include ../ld.so.conf\n",
	})
	r, err := newRootFS(root)
	must(t, err)
	if _, err := readLDConf(r, "/etc/ld.so.conf"); err == nil || !strings.Contains(err.Error(), "include cycle") {
		t.Fatalf("got %v, want an include cycle error", err)
	}
}

func TestLdSoCacheFromLdconfig(t *testing.T) {
	t.Parallel()
	needTool(t, "ldconfig", "libc-bin")
	root := fixtureRoot(t)
	tree(t, root, map[string]string{"etc/ld.so.conf": "/opt/c\n"})
	buildLib(t, filepath.Join(root, "opt/c/libcache.so.1"), spec{soname: "libcache.so.1"})
	buildLib(t, filepath.Join(root, "opt/c/libhw.so.1"), spec{soname: "libhw.so.1"})
	buildLib(t, filepath.Join(root, "opt/c/glibc-hwcaps/x86-64-v2/libhw.so.1"), spec{soname: "libhw.so.1"})
	run(t, "ldconfig", "-r", root)
	// Now the configuration no longer names /opt/c: only the (stale)
	// cache knows it, as on a real system before ldconfig runs again.
	must(t, os.WriteFile(filepath.Join(root, "etc/ld.so.conf"), nil, 0o644))
	exe := filepath.Join(root, "usr/bin/app")
	buildExe(t, exe, spec{needed: []string{"libcache.so.1", "libhw.so.1"}})
	for _, mode := range []CacheMode{CacheAuto, CacheFile} {
		p := resolveOne(t, root, exe, Options{Cache: mode})
		if l := lib(t, p, "libcache.so.1"); l.Path != "/opt/c/libcache.so.1" || l.Source != SourceCache {
			t.Errorf("%s: libcache.so.1 = %+v", mode, l)
		}
		if l := lib(t, p, "libhw.so.1"); l.Path != "/opt/c/libhw.so.1" {
			t.Errorf("%s, no hwcaps: libhw.so.1 at %s", mode, l.Path)
		}
	}
	p := resolveOne(t, root, exe, Options{Cache: CacheFile, CPU: CPU{HWCaps: []string{HWCapX86_64V2}}})
	if l := lib(t, p, "libhw.so.1"); l.Path != "/opt/c/glibc-hwcaps/x86-64-v2/libhw.so.1" {
		t.Errorf("hwcaps v2: libhw.so.1 at %s", l.Path)
	}
	missing(t, resolveOne(t, root, exe, Options{Cache: CacheConf}), "libcache.so.1")
	cpu, err := HostCPU()
	must(t, err)
	checkChroot(t, root, "/usr/bin/app", resolveOne(t, root, exe, Options{Cache: CacheFile, CPU: cpu}))
	// A compat-format cache: glibc 2.36 does not use its hwcaps entries.
	must(t, os.WriteFile(filepath.Join(root, "etc/ld.so.conf"), []byte("/opt/c\n"), 0o644))
	run(t, "ldconfig", "-r", root, "-c", "compat")
	p = resolveOne(t, root, exe, Options{Cache: CacheFile, CPU: cpu})
	if l := lib(t, p, "libhw.so.1"); l.Path != "/opt/c/libhw.so.1" {
		t.Errorf("compat cache: libhw.so.1 at %s", l.Path)
	}
	checkChroot(t, root, "/usr/bin/app", p)
	// A corrupt cache file is an error in file mode, naming the file.
	must(t, os.WriteFile(filepath.Join(root, "etc/ld.so.cache"), []byte("glibc-ld.so.cache1.1garbage"), 0o644))
	p = resolveOne(t, root, exe, Options{Cache: CacheFile})
	if m := missing(t, p, "libcache.so.1"); !strings.Contains(m.Reason, "/etc/ld.so.cache") {
		t.Errorf("corrupt cache reason %q", m.Reason)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	tree(t, d, map[string]string{
		"script":   "#!/bin/sh\necho hi\n",
		"loop@":    "loop",
		"dir/":     "",
		"rootfile": "x",
	})
	for _, tc := range []struct {
		root, file, want string
	}{
		{"/", filepath.Join(d, "script"), "not an ELF file"},
		{"/", filepath.Join(d, "absent"), "no such file or directory"},
		{"/", filepath.Join(d, "loop"), "too many levels of symbolic links"},
		{"/", filepath.Join(d, "dir"), "is a directory"},
		{filepath.Join(d, "no-root"), "/usr/bin/true", "no such file or directory"},
		{filepath.Join(d, "rootfile"), "/usr/bin/true", "not a directory"},
	} {
		_, err := Resolve(tc.root, []string{tc.file}, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("root %s, file %s: got %v, want an error containing %q", tc.root, tc.file, err, tc.want)
			continue
		}
		if first := strings.Fields(err.Error())[0]; !strings.Contains(first, filepath.Base(tc.file)) && !strings.HasPrefix(err.Error(), "root ") {
			t.Errorf("error does not start with the file or root: %v", err)
		}
	}
}

func TestStaticProgramHasNoLibraries(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	src := filepath.Join(d, "s.c")
	must(t, os.WriteFile(src, []byte("void _start(void) { for (;;) ; }\n"), 0o644))
	exe := filepath.Join(d, "static")
	run(t, "gcc", "-static", "-nostdlib", "-o", exe, src)
	p := resolveOne(t, "/", exe, Options{})
	if p.Linkage != "static" || len(p.Libraries) != 0 || len(p.Missing) != 0 {
		t.Errorf("static program: %+v", p)
	}
}

func TestManyProgramsUnionAndDeterminism(t *testing.T) {
	t.Parallel()
	files := dynamicExecutables(t, "/usr/bin")
	if len(files) > 60 {
		files = files[:60]
	}
	c1, err := Resolve("/", files, Options{Jobs: 4})
	must(t, err)
	c2, err := Resolve("/", files, Options{Jobs: 1})
	must(t, err)
	var b1, b2 bytes.Buffer
	must(t, WriteText(&b1, c1))
	must(t, WriteText(&b2, c2))
	if b1.String() != b2.String() {
		t.Fatal("parallel and sequential runs differ")
	}
	seen := map[string]bool{}
	for _, l := range c1.Libraries {
		if seen[l.RealPath] {
			t.Errorf("%s twice in the union", l.RealPath)
		}
		seen[l.RealPath] = true
	}
	for _, p := range c1.Programs {
		for _, l := range p.Libraries {
			if !seen[l.RealPath] {
				t.Errorf("%s of %s missing from the union", l.RealPath, p.Path)
			}
		}
	}
}

// TestRecordedSymlinksOverCopies: a root whose symlinks were turned into
// copies (lib a copy of usr/lib, libz.so.1 a copy of libz.so.1.2, as a
// build tool that resolves a directory's links delivers it) resolves, with
// Options.Symlinks recording the links, to the same canonical paths as the
// root with its links; without the record the copies show.
func TestRecordedSymlinksOverCopies(t *testing.T) {
	t.Parallel()
	linked := fixtureRoot(t)
	ml := "usr/lib/x86_64-linux-gnu"
	buildLib(t, filepath.Join(linked, ml, "libz.so.1.2"), spec{soname: "libz.so.1"})
	tree(t, linked, map[string]string{ml + "/libz.so.1@": "libz.so.1.2"})
	buildExe(t, filepath.Join(linked, "usr/bin/exe"), spec{needed: []string{"libz.so.1"}})

	copied := fixtureRoot(t)
	must(t, os.Remove(filepath.Join(copied, "lib")))
	for _, dst := range []string{ml + "/libz.so.1.2", ml + "/libz.so.1", "lib/x86_64-linux-gnu/libz.so.1.2", "lib/x86_64-linux-gnu/libz.so.1"} {
		copyFile(t, filepath.Join(linked, ml, "libz.so.1.2"), filepath.Join(copied, dst))
	}
	copyFile(t, filepath.Join(linked, "usr/bin/exe"), filepath.Join(copied, "usr/bin/exe"))
	record := map[string]string{"/lib": "usr/lib", "/" + ml + "/libz.so.1": "libz.so.1.2"}

	want := "/" + ml + "/libz.so.1.2"
	for _, c := range []struct {
		name, root string
		links      map[string]string
		real       string
	}{
		{"links on disk", linked, nil, want},
		{"links on disk and recorded", linked, record, want},
		{"copies, recorded links", copied, record, want},
		{"copies, no record", copied, nil, "/lib/x86_64-linux-gnu/libz.so.1"},
	} {
		p := resolveOne(t, c.root, filepath.Join(c.root, "usr/bin/exe"), Options{Symlinks: c.links})
		if l := lib(t, p, "libz.so.1"); l.RealPath != c.real || l.HostPath != filepath.Join(c.root, c.real) {
			t.Errorf("%s: libz.so.1 is %s (%s), want %s", c.name, l.RealPath, l.HostPath, c.real)
		}
	}

	for _, bad := range []map[string]string{{"lib": "usr/lib"}, {"/lib/": "usr/lib"}, {"/": "usr"}, {"/lib": ""}} {
		_, err := NewResolver(copied, Options{Symlinks: bad})
		if err == nil || !strings.Contains(err.Error(), "recorded symlink") {
			t.Errorf("record %v: got %v, want an error naming the recorded symlink", bad, err)
		}
	}
}
