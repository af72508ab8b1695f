package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rules-portable/rules_portable/tools/internal/archive"
)

// buildHello compiles a C program that prints its /proc/self/exe and exits
// with the status given as its first argument.
func buildHello(t *testing.T, dir string) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Fatal("gcc not found: install the Debian package gcc")
	}
	src := filepath.Join(dir, "hello.c")
	os.WriteFile(src, []byte(`#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
	char b[4096]; ssize_t n = readlink("/proc/self/exe", b, sizeof b - 1); b[n > 0 ? n : 0] = 0;
	printf("%s\n", b);
	return argc > 1 ? atoi(argv[1]) : 0;
}
`), 0o644)
	out := filepath.Join(dir, "hello")
	if b, err := exec.Command("gcc", "-o", out, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	return out
}

func TestBundleVerifyRelocateCLI(t *testing.T) {
	work := t.TempDir()
	hello := buildHello(t, work)
	arc := filepath.Join(work, "hello.tar.zst")
	// Flags after the program work too.
	if _, stderr, err := runCLI(t, "bundle", hello, "-o", arc); err != nil {
		t.Fatalf("bundle: %v\n%s", err, stderr)
	} else if stderr != "" {
		t.Errorf("not a terminal, yet bundle printed %q", stderr)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	arc2 := filepath.Join(work, "hello2.tar.zst")
	if _, _, err := runCLI(t, "bundle", "-o", arc2, hello); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(arc)
	b, _ := os.ReadFile(arc2)
	if bytes.Equal(a, b) {
		t.Error("SOURCE_DATE_EPOCH made no difference")
	}
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if _, _, err := runCLI(t, "bundle", "-o", filepath.Join(work, "x.tar"), hello); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
		t.Errorf("bad SOURCE_DATE_EPOCH: %v", err)
	}
	os.Unsetenv("SOURCE_DATE_EPOCH")

	dir := filepath.Join(work, "x")
	if err := archive.ExtractFile(arc, dir, archive.ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCLI(t, "verify", dir); err != nil || !strings.Contains(out, "ok") {
		t.Fatalf("verify: %q %v", out, err)
	}
	out, _, err := runCLI(t, "relocate", dir)
	if err != nil || !strings.Contains(out, "1 executables re-pointed") {
		t.Fatalf("relocate: %q %v", out, err)
	}
	got, err := exec.Command(filepath.Join(dir, "libexec/hello")).Output()
	if err != nil || string(got) != filepath.Join(dir, "libexec/hello")+"\n" {
		t.Errorf("relocated program: %q %v", got, err)
	}
	if out, _, err = runCLI(t, "relocate", "--direct", dir); err != nil || !strings.Contains(out, "1 launchers replaced") {
		t.Fatalf("relocate --direct: %q %v", out, err)
	}
	if _, _, err := runCLI(t, "verify", dir); err != nil {
		t.Fatalf("verify after --direct: %v", err)
	}
	// Damage it: verify lists every problem and fails.
	os.WriteFile(filepath.Join(dir, "lib/extra.so"), []byte("x"), 0o644)
	os.Chmod(filepath.Join(dir, "lib/libc.so.6"), 0o600)
	out, _, err = runCLI(t, "verify", dir)
	if err == nil || !strings.Contains(err.Error(), "1 extra, 1 mode") {
		t.Errorf("verify of a damaged bundle: err = %v", err)
	}
	if !strings.Contains(out, "lib/extra.so: extra") || !strings.Contains(out, "lib/libc.so.6: mode: 0600, manifest says 0755") {
		t.Errorf("verify output:\n%s", out)
	}
	// Usage mistakes.
	for _, args := range [][]string{{"bundle"}, {"verify"}, {"relocate", "a", "b"}, {"bundle", "--prefix", "p", "-o", "dir", hello}, {"bundle", "--source-prefix-map", "=x", "-o", "dir", hello}} {
		var ue usageError
		if _, _, err := runCLI(t, args...); !errors.As(err, &ue) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
}

// TestCLIHelperProcess is not a test: TestUnreadableInput runs the test
// binary as another user with PORTABLE_CLI_HELPER=1 to call run.
func TestCLIHelperProcess(t *testing.T) {
	if os.Getenv("PORTABLE_CLI_HELPER") != "1" {
		return
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	if err := run(args, os.Stdout, os.Stderr); err != nil {
		os.Stderr.WriteString("portable: " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Exit(0)
}

func TestUnreadableInput(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("needs root to run the CLI as another user (CI runs as root)")
	}
	work := t.TempDir()
	hello := buildHello(t, work)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The nobody user must reach the test binary, the program and the
	// output directory.
	for d := work; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	bin := filepath.Join(work, "portable.test")
	data, _ := os.ReadFile(self)
	os.WriteFile(bin, data, 0o755)
	outDir := filepath.Join(work, "out")
	os.Mkdir(outDir, 0o777)
	os.Chmod(outDir, 0o777)
	secret := filepath.Join(work, "secret")
	data, _ = os.ReadFile(hello)
	os.WriteFile(secret, data, 0o700)
	os.Chmod(secret, 0o700)
	for _, out := range []string{"b", "b.tar.gz"} {
		cmd := exec.Command(bin, "-test.run=^TestCLIHelperProcess$", "--", "bundle", "-o", filepath.Join(outDir, out), secret)
		cmd.Env = append(os.Environ(), "PORTABLE_CLI_HELPER=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		stderr, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(stderr), secret) || !strings.Contains(string(stderr), "permission denied") {
			t.Errorf("%s: unreadable program: %v\n%s", out, err, stderr)
		}
		if ents, _ := os.ReadDir(outDir); len(ents) != 0 {
			t.Errorf("%s: left %v", out, ents)
		}
	}
}

// TestBundleSameFromAnySandbox: Bazel runs each action in a sandbox at a
// new absolute path; the same relative inputs must give the same bytes.
func TestBundleSameFromAnySandbox(t *testing.T) {
	work := t.TempDir()
	hello := buildHello(t, work)
	data, _ := os.ReadFile(hello)
	var archives [][]byte
	for _, sb := range []string{"sandbox-1/execroot", "other-sandbox-22/execroot"} {
		dir := filepath.Join(work, sb)
		os.MkdirAll(filepath.Join(dir, "bazel-out/bin"), 0o755)
		os.WriteFile(filepath.Join(dir, "bazel-out/bin/hello"), data, 0o755)
		t.Chdir(dir)
		if _, _, err := runCLI(t, "bundle", "-o", "bazel-out/bin/hello.tar", "bazel-out/bin/hello"); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "bazel-out/bin/hello.tar"))
		if err != nil {
			t.Fatal(err)
		}
		archives = append(archives, b)
	}
	if !bytes.Equal(archives[0], archives[1]) {
		t.Error("bundles of the same inputs from two sandboxes differ")
	}
}

// logValue is a flag.Value that logs every value set, as "name=value".
type logValue struct {
	name   string
	isBool bool
	log    *[]string
}

func (v logValue) String() string   { return "" }
func (v logValue) IsBoolFlag() bool { return v.isBool }
func (v logValue) Set(s string) error {
	if v.isBool {
		if _, err := strconv.ParseBool(s); err != nil {
			return err
		}
	}
	*v.log = append(*v.log, v.name+"="+s)
	return nil
}

// interspersedModel is what parseInterspersed should do with a string
// flag -o, a repeatable string flag -add and a bool flag -b, written out
// from the flag package's rules: "-x" or "--x", "=value" or (not for a
// bool) the next argument as the value, a lone "-" or any other
// argument is positional, and "--" where a flag could start makes every
// later argument positional.
func interspersedModel(args []string) (pos, sets []string, ok bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(pos, args[i+1:]...), sets, true
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		name := strings.TrimPrefix(a[1:], "-")
		if name == "" || name[0] == '-' || name[0] == '=' {
			return nil, nil, false
		}
		name, val, hasVal := strings.Cut(name, "=")
		switch name {
		case "b":
			if !hasVal {
				val = "true"
			} else if _, err := strconv.ParseBool(val); err != nil {
				return nil, nil, false
			}
		case "o", "add":
			if !hasVal {
				if i+1 == len(args) {
					return nil, nil, false
				}
				i++
				val = args[i]
			}
		default: // unknown, or -h/-help
			return nil, nil, false
		}
		sets = append(sets, name+"="+val)
	}
	return pos, sets, true
}

// FuzzParseInterspersed: flags may follow positional arguments, "--"
// ends the flags (and a flag's value "--" does not). Arguments are the
// input's lines. parseInterspersed never panics, agrees with
// interspersedModel on acceptance, positionals and flag values, keeps
// the positionals in input order, and takes every flag value from the
// input.
func FuzzParseInterspersed(f *testing.F) {
	for _, s := range []string{
		"", "prog\n-o\nout", "/usr/bin/curl\n-o\ncurl.tar.gz\n--add\nx=y\n-b", "-o\n--\nprog\n-b",
		"-b\n--\n-o\nx", "a\n--\n--\nb", "-o=--\nx\n-b", "-h", "---x", "-=x", "-b=maybe", "-\n-b",
		"-o\n-o\n--\nx\n-b", "-b=false\np\n--\n-b", "--o\n-\n-", "-o",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		args := strings.Split(in, "\n")
		var sets []string
		fs := flag.NewFlagSet("portable bundle", flag.ContinueOnError)
		fs.Var(logValue{name: "o", log: &sets}, "o", "")
		fs.Var(logValue{name: "add", log: &sets}, "add", "")
		fs.Var(logValue{name: "b", isBool: true, log: &sets}, "b", "")
		pos, err := parseInterspersed(fs, args)
		wantPos, wantSets, ok := interspersedModel(args)
		if (err == nil) != ok {
			t.Fatalf("parseInterspersed(%q): error %v, model accepts: %v", args, err, ok)
		}
		if err != nil {
			if pos != nil {
				t.Fatalf("parseInterspersed(%q) = %q with error %v", args, pos, err)
			}
			return
		}
		// Positionals are a subsequence of the arguments.
		j := 0
		for _, p := range pos {
			for j < len(args) && args[j] != p {
				j++
			}
			if j == len(args) {
				t.Fatalf("parseInterspersed(%q) = %q: %q is not from the input, or out of order", args, pos, p)
			}
			j++
		}
		// Flag values are an argument, the part of one after "=", or a bool's "true".
		for _, s := range sets {
			_, v, _ := strings.Cut(s, "=")
			if !slices.ContainsFunc(args, func(a string) bool { return a == v || strings.HasSuffix(a, "="+v) }) && s != "b=true" {
				t.Fatalf("parseInterspersed(%q) set %s, which is not from the input", args, s)
			}
		}
		if !slices.Equal(pos, wantPos) || !slices.Equal(sets, wantSets) {
			t.Fatalf("parseInterspersed(%q):\npositional %q, flags %q\nwant       %q, flags %q", args, pos, sets, wantPos, wantSets)
		}
	})
}
