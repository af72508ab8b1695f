package launcherbin

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// repoFile returns the path of a file in the repository from this package's
// directory (go test runs in it).
func repoFile(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return p
}

// TestEmbeddedMatchesFreshBuild rebuilds each embedded launcher from
// launcher/ with the pinned flags and checks the embedded bytes are the same.
func TestEmbeddedMatchesFreshBuild(t *testing.T) {
	for _, c := range []struct {
		machine elf.Machine
		arch    string // launcher/build.sh --arch
		cc, pkg string
		file    string
	}{
		{elf.EM_X86_64, "x86_64", "gcc", "gcc", "launcher_amd64"},
		{elf.EM_AARCH64, "aarch64", "aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu", "launcher_arm64"},
	} {
		for _, kind := range []string{"", "audit", "run"} {
			name := c.arch
			if kind != "" {
				name += "/" + kind
			}
			t.Run(name, func(t *testing.T) {
				if _, err := exec.LookPath(c.cc); err != nil {
					t.Fatalf("%s not found: install the Debian package %s (gcc 12 on bookworm) to rebuild the launcher", c.cc, c.pkg)
				}
				out := filepath.Join(t.TempDir(), "launcher")
				args := []string{"--arch", c.arch, "--cc", c.cc, "-o", out}
				if kind != "" {
					args = append(args, "--"+kind)
				}
				cmd := exec.Command(repoFile(t, "launcher/build.sh"), args...)
				if b, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("launcher/build.sh: %v\n%s", err, b)
				}
				fresh, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				get, file := ForMachine, c.file
				switch kind {
				case "audit":
					get, file = AuditForMachine, strings.Replace(c.file, "launcher", "audit", 1)+".so"
				case "run":
					get, file = RunForMachine, strings.Replace(c.file, "launcher", "run", 1)
				}
				embedded, err := get(c.machine)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(fresh, embedded) {
					ver, _ := exec.Command(c.cc, "--version").Output()
					first := 0
					for first < len(fresh) && first < len(embedded) && fresh[first] == embedded[first] {
						first++
					}
					flag := ""
					if kind != "" {
						flag = " --" + kind
					}
					t.Fatalf("embedded %s (%d bytes) differs from a fresh build (%d bytes) at byte %d; "+
						"compiler: %s; if launcher/ changed, refresh it with "+
						"launcher/build.sh --arch %s%s -o tools/internal/launcherbin/%s (Debian 12, gcc 12)",
						file, len(embedded), len(fresh), first, strings.SplitN(string(ver), "\n", 2)[0], c.arch, flag, file)
				}
			})
		}
	}
}

// TestEmbeddedShape checks what the bundler relies on: a static executable
// of the right machine, no interpreter, no dynamic section, within budget,
// no segment both writable and executable.
func TestEmbeddedShape(t *testing.T) {
	for _, m := range Machines() {
		b, err := ForMachine(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > MaxSize {
			t.Errorf("%v launcher is %d bytes, over %d", m, len(b), MaxSize)
		}
		f, err := elf.NewFile(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%v launcher: %v", m, err)
		}
		if f.Machine != m || f.Type != elf.ET_EXEC || f.Class != elf.ELFCLASS64 {
			t.Errorf("%v launcher: machine %v type %v class %v", m, f.Machine, f.Type, f.Class)
		}
		entryMapped := false
		for _, p := range f.Progs {
			switch p.Type {
			case elf.PT_INTERP, elf.PT_DYNAMIC:
				t.Errorf("%v launcher has %v", m, p.Type)
			case elf.PT_LOAD:
				if p.Flags&elf.PF_W != 0 && p.Flags&elf.PF_X != 0 {
					t.Errorf("%v launcher has a writable and executable segment", m)
				}
				if f.Entry >= p.Vaddr && f.Entry < p.Vaddr+p.Memsz && p.Flags&elf.PF_X != 0 {
					entryMapped = true
				}
				if p.Vaddr+p.Memsz > 1<<31 {
					t.Errorf("%v launcher segment ends at %#x, above 2 GiB", m, p.Vaddr+p.Memsz)
				}
			}
		}
		if !entryMapped {
			t.Errorf("%v launcher: entry %#x is in no executable segment", m, f.Entry)
		}
	}
}

// TestEmbeddedRunsAndFailsCleanly runs the embedded launcher outside any
// bundle: it must say, in one line, which file it could not open, and exit 127.
func TestEmbeddedRunsAndFailsCleanly(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Fatalf("this test runs the x86_64 launcher; GOARCH is %s", runtime.GOARCH)
	}
	b, err := ForMachine(elf.EM_X86_64)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err = filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	self := filepath.Join(dir, "bin", "tool")
	if err := os.WriteFile(self, b, 0o755); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(self)
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).ExitStatus() != 127 {
		t.Fatalf("launcher outside a bundle: got %v, want exit status 127", err)
	}
	want := "portable-launcher: " + filepath.Join(dir, "libexec", "tool") +
		": open: No such file or directory (errno 2)\n"
	if stderr.String() != want {
		t.Errorf("stderr = %q, want %q", stderr.String(), want)
	}
}

func TestForMachineUnknown(t *testing.T) {
	for _, m := range []elf.Machine{elf.EM_386, elf.EM_RISCV, elf.EM_PPC64} {
		if _, err := ForMachine(m); err == nil || !strings.Contains(err.Error(), m.String()) {
			t.Errorf("ForMachine(%v) = %v, want an error naming the machine", m, err)
		}
	}
}
