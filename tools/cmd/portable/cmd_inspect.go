package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rules-portable/rules_portable/tools/internal/elf"
	"github.com/rules-portable/rules_portable/tools/internal/manifest"
	"github.com/rules-portable/rules_portable/tools/internal/runfile"
)

const inspectHelp = `
Print what the dynamic linker will see in each ELF FILE: class, machine,
type, static/static-pie/dynamic, the interpreter (PT_INTERP), the needed
libraries (DT_NEEDED), DT_RPATH, DT_RUNPATH, DT_SONAME, the symbol versions
needed from each library and the highest GLIBC_x.y among them. The files are
only read, never run.

Oddities that do not stop the reading (a relative PT_INTERP, two PT_INTERP
headers, a PT_INTERP outside every PT_LOAD, ...) are listed as problems.
A file that cannot be read (not ELF, a script, truncated, corrupt, a
directory, ...) gets one line on stderr naming it; the other files are still
printed and the exit status is 1.

With --json, each file is one JSON object on its own line (JSON Lines):
  path, class (ELF32|ELF64), data (little-endian|big-endian),
  machine (x86_64, i386, aarch64, arm, riscv64, ppc64, s390x, ... or EM_<n>),
  type (EXEC|DYN|REL|CORE), linkage (static|static-pie|dynamic),
  interpreter ("" if none), interp_slot (bytes PT_INTERP reserves, 0 if none),
  needed [strings], rpath, runpath, soname ("" when absent),
  version_needs [{file, versions [strings]}],
  max_glibc and max_glibcxx (e.g. "GLIBC_2.34"; "" if none),
  problems [strings].
Lists are never null.

Examples:
  portable inspect /usr/bin/ls
  portable inspect --json /usr/bin/* 2>/dev/null | jq -r 'select(.max_glibc != "") | .max_glibc' | sort -V | tail -1
`

func runInspect(e *env, args []string) error {
	fs := newFlagSet(e, "inspect", "[--json] FILE...", inspectHelp)
	asJSON := fs.Bool("json", false, "print one JSON object per file (JSON Lines)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("inspect: no FILE given")
	}
	failed := 0
	for _, path := range fs.Args() {
		f, err := elf.Open(path)
		if err != nil {
			fmt.Fprintf(e.stderr, "portable: inspect: %v\n", err)
			failed++
			continue
		}
		r := f.Report()
		run, err := runInfoOf(path)
		if err != nil {
			fmt.Fprintf(e.stderr, "portable: inspect: %v\n", err)
			failed++
		}
		if *asJSON {
			b, err := json.Marshal(struct {
				elf.Report
				Run *runInfo `json:"run,omitempty"`
			}{r, run})
			if err != nil {
				return fmt.Errorf("inspect: %s: encode JSON: %w", path, err)
			}
			fmt.Fprintf(e.stdout, "%s\n", b)
			continue
		}
		printReport(e.stdout, r)
		if run != nil {
			printRun(e.stdout, run)
		}
	}
	if failed > 0 {
		return fmt.Errorf("inspect: %d of %d files could not be read", failed, fs.NArg())
	}
	return nil
}

// describeInterpreter shows a PT_INTERP for people: a path padded with
// slashes (a linker's PATH_MAX slot, e.g. rules_portable's cc toolchains)
// is shown with the runs collapsed, which name the same file, and the
// count; --json keeps the exact bytes.
func describeInterpreter(interp string, slot int64) string {
	var b strings.Builder
	extra := 0
	for i := 0; i < len(interp); i++ {
		if interp[i] == '/' && i > 0 && interp[i-1] == '/' {
			extra++
			continue
		}
		b.WriteByte(interp[i])
	}
	if extra < 8 {
		return fmt.Sprintf("%s (slot %d bytes)", interp, slot)
	}
	return fmt.Sprintf("%s (padded with %d extra slashes; slot %d bytes)", b.String(), extra, slot)
}

func printReport(w io.Writer, r elf.Report) {
	fmt.Fprintf(w, "%s: %s %s %s %s, %s\n", r.Path, r.Class, r.Data, r.Machine, r.Type, r.Linkage)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-12s %s\n", k+":", v)
		}
	}
	if r.Interpreter != "" {
		line("interpreter", describeInterpreter(r.Interpreter, r.InterpSlot))
	}
	line("needed", strings.Join(r.Needed, " "))
	line("rpath", r.RPath)
	line("runpath", r.RunPath)
	line("soname", r.SOName)
	line("max glibc", r.MaxGLIBC)
	line("max glibcxx", r.MaxGLIBCXX)
	for _, vn := range r.VersionNeeds {
		line("versions", vn.File+": "+strings.Join(vn.Versions, " "))
	}
	for _, p := range r.Problems {
		line("problem", p)
	}
}

// runInfo is what inspect shows of a single-file executable (FILE.run):
// its trailer and the manifest inside its payload.
type runInfo struct {
	Entry       string             `json:"entry"`
	PayloadSize uint64             `json:"payload_size"`
	TarSize     uint64             `json:"tar_size"`
	SHA256      string             `json:"sha256"`
	Manifest    *manifest.Manifest `json:"manifest"`
}

// runInfoOf reads the .run trailer and manifest of path; nil, nil for a
// file that is not a .run file.
func runInfoOf(path string) (*runInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	_, err = runfile.ReadTrailer(f, st.Size())
	f.Close()
	if errors.Is(err, runfile.ErrNotRun) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m, t, err := runfile.Manifest(path)
	if err != nil {
		return nil, err
	}
	return &runInfo{Entry: t.Entry, PayloadSize: t.PayloadSize, TarSize: t.TarSize, SHA256: hex.EncodeToString(t.Sum[:]), Manifest: m}, nil
}

func printRun(w io.Writer, r *runInfo) {
	m := r.Manifest
	fmt.Fprintf(w, "  single-file executable: runs bin/%s\n", r.Entry)
	fmt.Fprintf(w, "  %-12s %d bytes of zstd (sha256 %s), %d bytes of tar\n", "payload:", r.PayloadSize, r.SHA256, r.TarSize)
	fmt.Fprintf(w, "  %-12s %s, glibc %s from %s, %d files\n", "bundle:", m.Arch, m.Libc.Version, m.Libc.Root, len(m.Files))
	var names []string
	for _, ep := range m.EntryPoints {
		names = append(names, ep.Name)
	}
	fmt.Fprintf(w, "  %-12s %s\n", "programs:", strings.Join(names, " "))
}
