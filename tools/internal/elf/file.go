package elf

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
)

// ReadFile reads a whole regular file, refusing directories, FIFOs and
// devices (without blocking on them) with an error naming path. It returns
// the file's stat too (mode, owner) so that a patched copy can match it.
func ReadFile(path string) ([]byte, os.FileInfo, error) {
	fd, st, err := openInput(path)
	if err != nil {
		return nil, nil, err
	}
	defer fd.Close()
	// One buffer of the size fstat gave, one byte more to see growth: a
	// bytes.Buffer would double (and zero) a large program's buffer at
	// its end.
	buf := make([]byte, st.Size()+1)
	n, err := io.ReadFull(fd, buf)
	switch {
	case err == nil:
		// Grown since fstat: read the rest.
		rest, err := io.ReadAll(fd)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: read: %w", path, err)
		}
		return append(buf, rest...), st, nil
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return buf[:n], st, nil
	default:
		return nil, nil, fmt.Errorf("%s: read: %w", path, err)
	}
}

// openInput opens a regular file to read as ELF, refusing other kinds
// with an error naming path.
func openInput(path string) (*os.File, os.FileInfo, error) {
	fd, st, err := fsutil.OpenInput("", path, 0)
	if err != nil {
		var ie *fsutil.InputError
		if errors.As(err, &ie) && !strings.HasPrefix(ie.Msg, "cannot") {
			return nil, nil, fmt.Errorf("%s: %s, not an ELF file", path, ie.Msg)
		}
		return nil, nil, err
	}
	return fd, st, nil
}

// PatchFile applies opts to the ELF file at path and writes the result to
// out, or back to path when out is "". The output is written atomically
// (temp file, rename; synced first when it replaces a file) with the
// input's mode; a file it replaces keeps its user and group, a new one is
// the caller's, and a set-ID bit survives only when the output's owner
// (group) is the input's. On any error nothing is written and the input is
// untouched. An -o OUT that is a symlink is refused rather than replaced
// by a file. Patching a file in place with values it already has leaves it
// alone. changed reports whether the content differs from the input.
//
// The input is mapped, not read: only the headers and tables a patch
// looks at are touched. The output is a clone of the input where the file
// system shares extents (FICLONE), else an in-kernel copy
// (copy_file_range), with the changed ranges and the new segment written
// over it: a large program's bytes never pass through this process.
func PatchFile(path, out string, opts PatchOptions) (changed bool, err error) {
	pt, err := OpenPatched(path, opts)
	if err != nil {
		return false, err
	}
	defer pt.Close()
	if out == "" {
		if !pt.Changed() {
			return false, nil
		}
		// Replace the file a symlink points to, not the symlink.
		if out, err = filepath.EvalSymlinks(path); err != nil {
			return false, fmt.Errorf("%s: %w", path, err)
		}
	} else if lst, err := os.Lstat(out); err == nil && lst.Mode()&os.ModeSymlink != 0 {
		target, _ := os.Readlink(out)
		return false, fmt.Errorf("%s: is a symlink (to %s), which -o would replace with a file; give the path it names, or remove the link", out, target)
	}
	// The input decides which set-ID bits may stay (see
	// fsutil.WriteFileAtomicLike).
	st := pt.Stat()
	mode := st.Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky)
	if err := fsutil.WriteFileAtomicAt(out, mode, st, pt.WriteTo); err != nil {
		return false, err
	}
	return pt.Changed(), nil
}
