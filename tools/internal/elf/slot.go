package elf

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// InterpSlot returns the file offset and size of the PT_INTERP contents:
// the bytes a launcher may rewrite in place to re-point the interpreter.
// ok is false when the file has no PT_INTERP.
func (f *File) InterpSlot() (offset, size int64, ok bool) {
	if f.interpIdx < 0 {
		return 0, 0, false
	}
	p := f.Progs[f.interpIdx]
	return int64(p.Off), int64(p.Filesz), true
}

// NormalizeInterpSlot returns a copy of the ELF file data with the bytes of
// its PT_INTERP slot set to zero, so that a checksum of the result does not
// change when a launcher re-points the interpreter in place. A file without
// PT_INTERP is returned as an unchanged copy. Non-ELF data is an error
// wrapping ErrNotELF.
func NormalizeInterpSlot(data []byte) ([]byte, error) {
	f, err := Parse(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	out := bytes.Clone(data)
	if off, size, ok := f.InterpSlot(); ok {
		clear(out[off : off+size])
	}
	return out, nil
}

// SetInterpInPlace points the PT_INTERP of the ELF file in data at interp by
// writing inside the existing slot only (interp, then NUL padding to the
// end of the slot). It fails, leaving data unchanged, when the file has no
// PT_INTERP, interp is not absolute, or interp and its NUL do not fit in
// the slot; Patch with PatchOptions.InterpSlot makes a slot large enough.
func SetInterpInPlace(data []byte, interp string) error {
	if interp == "" || interp[0] != '/' {
		return fmt.Errorf("interpreter %q is not an absolute path", interp)
	}
	if strings.IndexByte(interp, 0) >= 0 {
		return fmt.Errorf("interpreter %q contains a NUL byte", interp)
	}
	f, err := Parse(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	off, size, ok := f.InterpSlot()
	if !ok {
		return errors.New("has no PT_INTERP slot to re-point")
	}
	if f.interpCount > 1 {
		return fmt.Errorf("has %d PT_INTERP headers; refusing to re-point an ambiguous file", f.interpCount)
	}
	if int64(len(interp))+1 > size {
		return fmt.Errorf("interpreter %q needs %d bytes but the PT_INTERP slot has %d; patch it with a larger interpreter slot first", interp, len(interp)+1, size)
	}
	slot := data[off : off+size]
	clear(slot)
	copy(slot, interp)
	return nil
}

// ReadOnlyRanges returns the file byte ranges [start, end) of the
// loadable segments that are not writable: where a program's constant
// strings and tables live. size is the file's length; a segment that
// reaches past it is an error.
func (f *File) ReadOnlyRanges(size int64) ([][2]int64, error) {
	var r [][2]int64
	for _, p := range f.Progs {
		if p.Type != PTLoad || p.Flags&PFW != 0 {
			continue
		}
		end := p.Off + p.Filesz
		if end < p.Off || end > uint64(size) {
			return nil, fmt.Errorf("a PT_LOAD segment (offset %d, %d bytes) lies outside the file of %d bytes", p.Off, p.Filesz, size)
		}
		r = append(r, [2]int64{int64(p.Off), int64(end)})
	}
	return r, nil
}
