package elf

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
