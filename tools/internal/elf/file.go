package elf

import (
	"bytes"
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
	fd, st, err := fsutil.OpenInput("", path, 0)
	if err != nil {
		var ie *fsutil.InputError
		if errors.As(err, &ie) && !strings.HasPrefix(ie.Msg, "cannot") {
			return nil, nil, fmt.Errorf("%s: %s, not an ELF file", path, ie.Msg)
		}
		return nil, nil, err
	}
	defer fd.Close()
	var buf bytes.Buffer
	buf.Grow(int(st.Size()))
	if _, err := io.Copy(&buf, fd); err != nil {
		return nil, nil, fmt.Errorf("%s: read: %w", path, err)
	}
	return buf.Bytes(), st, nil
}

// PatchFile applies opts to the ELF file at path and writes the result to
// out, or back to path when out is "". The output is written atomically
// (temp file, fsync, rename) with the input's mode; a file it replaces
// keeps its user and group, a new one is the caller's, and a set-ID bit
// survives only when the output's owner (group) is the input's. On any
// error nothing is written and the input is untouched. An -o OUT that is a
// symlink is refused rather than replaced by a file. Patching a file in place with
// values it already has leaves it alone. changed reports whether the
// content differs from the input.
func PatchFile(path, out string, opts PatchOptions) (changed bool, err error) {
	data, st, err := ReadFile(path)
	if err != nil {
		return false, err
	}
	mode := st.Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky)
	res, err := Patch(data, opts)
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	changed = !bytes.Equal(res, data)
	if out == "" {
		if !changed {
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
	err = fsutil.WriteFileAtomicLike(out, mode, st, func(w io.Writer) error {
		_, err := w.Write(res)
		return err
	})
	if err != nil {
		return false, err
	}
	return changed, nil
}
