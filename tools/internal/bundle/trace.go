package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"

	"github.com/rules-portable/rules_portable/tools/internal/deps"
	"github.com/rules-portable/rules_portable/tools/internal/elf"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
	"github.com/rules-portable/rules_portable/tools/internal/manifest"
	"github.com/rules-portable/rules_portable/tools/internal/trace"
)

// TraceResult is what Trace learnt from the sample run.
type TraceResult struct {
	// Record is the run's record, normalised to the bundle.
	Record *trace.Record
	// Diff compares it with the bundle the run used.
	Diff trace.Diff
	// Added are the libraries the run asked for by name that the root
	// has: Build them in with Options.Adds.
	Added []Add
	// Unfound are names the run asked for that the root lacks too.
	Unfound []string
	// ExitCode is the sample command's exit status (-1: killed).
	ExitCode int
}

// Trace is the one place the bundler runs a program: the user's own
// sample command, opted into with 'portable bundle --trace -- ARGS'. It
// builds the bundle in a temp directory, runs its first program with args
// (and the caller's stdio and environment) in record mode
// (PORTABLE_AUDIT_RECORD), and reports what the run loaded beyond the
// static closure. The bundle must carry the audit module: a bundle of
// policy fallback without --enforce-checksums is refused.
func Trace(programs []string, opts Options, args []string, stdin io.Reader, stdout, stderr io.Writer) (*TraceResult, error) {
	if p, err := ParseHostLibs(opts.HostLibs, opts.HostLib); err != nil {
		return nil, err
	} else if p == HostLibsFallback && !opts.EnforceChecksums {
		return nil, errors.New("--trace needs the bundle's audit module, which --host-libs fallback leaves out; add --enforce-checksums or drop --host-libs fallback")
	}
	tmp, err := fsutil.MkdirTemp("", "portable-trace")
	if err != nil {
		return nil, err
	}
	defer fsutil.RemoveTemp(tmp)
	dir := filepath.Join(tmp, "bundle")
	o := opts
	o.Tar, o.TarPrefix, o.Prefix, o.Progress = "", "", "", nil
	res, err := Build(dir, programs, o)
	if err != nil {
		return nil, err
	}
	if len(res.Manifest.EntryPoints) == 0 || res.Manifest.Loader == "" {
		return nil, errors.New("--trace: the programs are statically linked; there is nothing to record")
	}
	recFile := filepath.Join(tmp, "record")
	cmd := exec.Command(filepath.Join(dir, res.Manifest.EntryPoints[0].Launcher), args...)
	cmd.Env = append(os.Environ(), "PORTABLE_AUDIT_RECORD="+recFile)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	out := &TraceResult{}
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return nil, fmt.Errorf("--trace: running %s: %w", res.Manifest.EntryPoints[0].Name, err)
		}
		out.ExitCode = ee.ExitCode()
	}
	data, err := os.ReadFile(recFile)
	if err != nil {
		return nil, fmt.Errorf("--trace: the run of %s left no record (%v): did it start?", res.Manifest.EntryPoints[0].Name, err)
	}
	if out.Record, err = trace.Parse(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("--trace: %w", err)
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	out.Record.Normalise(dir)
	out.Record.Normalise(real)
	objects := map[string]bool{}
	for _, e := range res.Manifest.Files {
		if e.Type == manifest.File && (path.Dir(e.Path) == "lib" || path.Dir(e.Path) == "libexec") {
			objects[e.Path] = true
		}
	}
	out.Diff = trace.Compare(res.Manifest, objects, out.Record)
	root := opts.Root
	if root == "" {
		root = "/"
	}
	for _, name := range out.Diff.Missing {
		if p := findLibrary(root, res.Manifest.Arch, name); p != "" {
			out.Added = append(out.Added, Add{Src: p, Dest: "lib/" + name})
		} else {
			out.Unfound = append(out.Unfound, name)
		}
	}
	return out, nil
}

// findLibrary looks name up in root's default library directories for
// arch, the way a loader without a cache would; "" when it is not there.
func findLibrary(root, arch, name string) string {
	m := elf.EMX86_64
	if arch == "aarch64" {
		m = elf.EMAARCH64
	}
	dirs, err := deps.DefaultDirs(elf.Class64, m)
	if err != nil {
		return ""
	}
	for _, d := range dirs {
		for _, dd := range []string{d, "/usr" + d} {
			p := filepath.Join(root, dd, name)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return p
			}
		}
	}
	return ""
}
