package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rules-portable/rules_portable/tools/internal/elf"
)

const patchHelp = `
Change the interpreter (PT_INTERP) and the library search path
(DT_RPATH/DT_RUNPATH) of an ELF executable or shared library. Strings of any
length work: a string that fits over the old one is written in place;
otherwise one new PT_LOAD segment is appended for what had to move (the
interpreter, the tables after .dynstr so that it can grow, the dynamic
array when an entry must be added), page-aligned for the machine (64 KiB on
aarch64/ppc64). The program header table stays where kernels before 5.18
look for it. A file patched before has that segment rebuilt, never a second
one added; patching with the values a file already has leaves it
byte-identical.

--set-rpath writes DT_RPATH and removes DT_RUNPATH (with a RUNPATH present,
ld.so would ignore the RPATH); --set-runpath writes DT_RUNPATH and removes
DT_RPATH, or writes DT_RPATH with --force-rpath (as patchelf does). An empty
value removes both entries. RPATH is searched before LD_LIBRARY_PATH and
applies to the libraries a library loads too; RUNPATH does neither.

--keep-origin keeps the entries of the current RPATH/RUNPATH that start
with $ORIGIN ahead of the new path (each once): they find libraries that
travel with the program, such as the shared libraries of a Bazel build.

--interp-slot N makes PT_INTERP exactly N bytes (the path, then NUL padding;
N <= 4096, the kernel's limit), so that a launcher can later re-point it
with an in-place write of up to N-1 bytes.

Several FILEs are patched in place one after the other, or with -o DIR
written into the existing directory DIR under their own names; one process
for many files saves a process start per file. A failure stops the run:
the files before it are patched, it and those after it are untouched.

Each output is written atomically (temp file, rename) with the input's
mode, to OUT or over FILE; on any error nothing is written. A file that is
replaced is synced to disk before the rename, so a crash leaves the old
content or the new; a new OUT is not synced (as cp's and patchelf's
outputs are not). An input over 1 MiB is mapped, not read, and its output
is a clone of it (FICLONE) or an in-kernel copy (copy_file_range) with
only the changed bytes written over it; a smaller one is read and written
whole. A file it replaces keeps its user and group; a new OUT is the
caller's. A set-UID or set-GID bit survives only when the output's owner
(or group) is the input's: as root, another user's set-UID program patched
in place stays theirs and set-UID, while a new -o copy is root's and plain.
In place, a symlink FILE is followed and the file it names replaced
(other hard links keep the old content); an OUT that is a symlink is
refused. Refused too: a relative or empty interpreter, changing the
interpreter of a static binary, and files with two PT_INTERP headers.

Examples:
  portable patch --set-interpreter /usr/sysroot/v2/lib64/ld-linux-x86-64.so.2 \
      --set-rpath /usr/sysroot/v2/lib/x86_64-linux-gnu -o app.v2 app
  portable patch --set-rpath '$ORIGIN/../lib' --interp-slot 4096 libexec/app
  portable patch --set-rpath '$ORIGIN/../lib' -o out/ bin/a bin/b bin/c
`

func runPatch(e *env, args []string) error {
	fs := newFlagSet(e, "patch", "[--set-interpreter P] [--set-rpath R | --set-runpath R] [--force-rpath] [--keep-origin] [--interp-slot N] [-o OUT|DIR] FILE...", patchHelp)
	var opts elf.PatchOptions
	fs.StringVar(&opts.Interpreter, "set-interpreter", "", "new PT_INTERP, an absolute `path`")
	fs.StringVar(&opts.RPath, "set-rpath", "", "write DT_RPATH (colon-separated `dirs`, $ORIGIN allowed) and drop DT_RUNPATH")
	fs.StringVar(&opts.RunPath, "set-runpath", "", "write DT_RUNPATH (colon-separated `dirs`) and drop DT_RPATH")
	fs.BoolVar(&opts.ForceRPath, "force-rpath", false, "make --set-runpath write DT_RPATH instead")
	fs.BoolVar(&opts.KeepOrigin, "keep-origin", false, "keep the current $ORIGIN entries of RPATH/RUNPATH ahead of the new path")
	fs.IntVar(&opts.InterpSlot, "interp-slot", 0, "reserve exactly `N` bytes for PT_INTERP (<= 4096)")
	out := fs.String("o", "", "write the result to `OUT` instead of replacing FILE (with several FILEs, into the directory OUT)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	interpSet := false
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "set-interpreter":
			interpSet = true
		case "set-rpath":
			opts.SetRPath = true
		case "set-runpath":
			opts.SetRunPath = true
		}
	})
	if fs.NArg() == 0 {
		return usagef("patch: no FILE given")
	}
	if interpSet && opts.Interpreter == "" {
		return usagef("patch: --set-interpreter is empty; give the absolute path of the new loader")
	}
	if opts.SetRPath && opts.SetRunPath {
		return usagef("patch: --set-rpath and --set-runpath are exclusive")
	}
	if opts.KeepOrigin && !opts.SetRPath && !opts.SetRunPath {
		return usagef("patch: --keep-origin only applies with --set-rpath or --set-runpath")
	}
	if opts.ForceRPath && !opts.SetRunPath {
		return usagef("patch: --force-rpath only applies to --set-runpath (--set-rpath always writes DT_RPATH)")
	}
	if opts.InterpSlot < 0 || opts.InterpSlot > 4096 {
		return usagef("patch: --interp-slot must be between 1 and 4096")
	}
	if opts.Interpreter == "" && opts.InterpSlot == 0 && !opts.SetRPath && !opts.SetRunPath {
		return usagef("patch: nothing to do; give --set-interpreter, --interp-slot, --set-rpath or --set-runpath")
	}
	files := fs.Args()
	outs := make([]string, len(files))
	if *out != "" {
		if len(files) == 1 {
			outs[0] = *out
		} else {
			// Several files and -o: a directory that exists, each output
			// named as its input.
			if st, err := os.Stat(*out); err != nil || !st.IsDir() {
				return usagef("patch: -o %s with %d FILEs must name an existing directory", *out, len(files))
			}
			seen := map[string]string{}
			for i, f := range files {
				b := filepath.Base(f)
				if prev, ok := seen[b]; ok {
					return usagef("patch: %s and %s would both be written to %s", prev, f, filepath.Join(*out, b))
				}
				seen[b] = f
				outs[i] = filepath.Join(*out, b)
			}
		}
	}
	for i, f := range files {
		if _, err := elf.PatchFile(f, outs[i], opts); err != nil {
			if i > 0 {
				return fmt.Errorf("%w\n(patched: the %d FILE(s) before it; not patched: it and those after it)", err, i)
			}
			return err
		}
	}
	return nil
}
