package elf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
)

// ReadFile reads a whole regular file, refusing directories, FIFOs and
// devices (without blocking on them) with an error naming path.
func ReadFile(path string) ([]byte, os.FileMode, error) {
	fd, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, 0, fmt.Errorf("%s: cannot open: %w", path, err)
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("%s: stat: %w", path, err)
	}
	switch {
	case st.IsDir():
		return nil, 0, fmt.Errorf("%s: is a directory, not an ELF file", path)
	case !st.Mode().IsRegular():
		return nil, 0, fmt.Errorf("%s: is not a regular file (%s), not an ELF file", path, fileKind(st.Mode()))
	}
	var buf bytes.Buffer
	buf.Grow(int(st.Size()))
	if _, err := io.Copy(&buf, fd); err != nil {
		return nil, 0, fmt.Errorf("%s: read: %w", path, err)
	}
	mode := st.Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky)
	return buf.Bytes(), mode, nil
}

// PatchFile applies opts to the ELF file at path and writes the result to
// out, or back to path when out is "". The output is written atomically
// (temp file, fsync, rename) with the input's mode; on any error nothing
// is written and the input is untouched. Patching a file in place with
// values it already has leaves it alone. changed reports whether the
// content differs from the input.
func PatchFile(path, out string, opts PatchOptions) (changed bool, err error) {
	data, mode, err := ReadFile(path)
	if err != nil {
		return false, err
	}
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
	}
	if err := fsutil.WriteBytesAtomic(out, mode, res); err != nil {
		return false, err
	}
	return changed, nil
}
