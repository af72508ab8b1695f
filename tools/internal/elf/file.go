package elf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
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
	var buf bytes.Buffer
	buf.Grow(int(st.Size()))
	if _, err := io.Copy(&buf, fd); err != nil {
		return nil, nil, fmt.Errorf("%s: read: %w", path, err)
	}
	return buf.Bytes(), st, nil
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
	fd, st, err := openInput(path)
	if err != nil {
		return false, err
	}
	defer fd.Close()
	mode := st.Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky)
	m, err := mapInput(fd, st.Size())
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	defer m.close()
	// The input may shrink under the mapping (another writer): the fault
	// becomes an error, not a crash.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			changed, err = false, fmt.Errorf("%s: changed while being read (%v); patch it when nothing else is writing it", path, r)
		}
	}()
	in := m.data

	if err := opts.validate(); err != nil {
		return false, err
	}
	f, err := Parse(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	p, err := newPatch(f, in, opts)
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	prefix, tail := in, []byte(nil)
	if p.interpChange || p.pathChange || p.auditChange {
		var priv *mapping
		defer func() { priv.close() }()
		p.alloc = func(base, _ uint64) []byte {
			if priv, err = mapPrivate(fd, base); err != nil {
				// Without a mapping (a file system that refuses one),
				// a copy.
				return append([]byte(nil), in[:base]...)
			}
			return priv.data
		}
		if prefix, tail, err = p.build(); err != nil {
			return false, fmt.Errorf("%s: %w", path, err)
		}
		if err := p.check(joined{prefix, tail}, int64(len(prefix)+len(tail))); err != nil {
			return false, fmt.Errorf("%s: %w", path, err)
		}
	}
	var edits []span
	for _, sp := range p.dirtySpans(uint64(len(prefix))) {
		if !bytes.Equal(prefix[sp.lo:sp.hi], in[sp.lo:sp.hi]) {
			edits = append(edits, sp)
		}
	}
	base := uint64(len(prefix))
	changed = len(edits) > 0 || base+uint64(len(tail)) != uint64(len(in)) || !bytes.Equal(tail, in[base:])
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
	err = fsutil.WriteFileAtomicAt(out, mode, st, func(w *os.File) error {
		if err := copyPrefix(w, fd, int64(base)); err != nil {
			return fmt.Errorf("%s: copy %s: %w", out, path, err)
		}
		for _, sp := range edits {
			if _, err := w.WriteAt(prefix[sp.lo:sp.hi], int64(sp.lo)); err != nil {
				return err
			}
		}
		if len(tail) > 0 {
			if _, err := w.WriteAt(tail, int64(base)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return changed, nil
}
