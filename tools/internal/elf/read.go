package elf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"

	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
)

// ErrNotELF is wrapped by the error for input that does not start with the
// ELF magic (including scripts).
var ErrNotELF = errors.New("not an ELF file")

// FormatError describes a structural problem in an ELF file, with the byte
// offset where it was found.
type FormatError struct {
	Off uint64 // file offset; offsets are unsigned and print as such
	Msg string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("malformed ELF at offset %#x: %s", e.Off, e.Msg)
}

func formatErr(off uint64, format string, args ...any) error {
	return &FormatError{Off: off, Msg: fmt.Sprintf(format, args...)}
}

// kernelRefuses reports the program header counts with which Linux's
// load_elf_binary refuses an executable or shared library (ENOEXEC), so
// that such a file is an error, not a "static" program: PN_XNUM (the
// kernel never looks for the real count in section 0), no program header
// at all, or a table over 64 KiB.
func kernelRefuses(c Class, t Type, phnum uint64, phentsize uint16) error {
	if t != TypeExec && t != TypeDyn {
		return nil
	}
	off := uint64(56) // e_phnum in ELF64
	if c != Class64 {
		off = 44
	}
	switch {
	case phnum == 0xffff:
		return formatErr(off, "e_phnum is PN_XNUM (0xffff), which the kernel refuses to load (ENOEXEC): it never reads the real count from section 0")
	case phnum == 0:
		return formatErr(off, "no program headers (e_phnum 0): the kernel refuses to load an executable or shared library without them (ENOEXEC)")
	case c == Class64 && phentsize != 56 || c != Class64 && phentsize != 32:
		return formatErr(off-2, "e_phentsize is %d, not the size of a program header, which the kernel refuses to load (ENOEXEC)", phentsize)
	case phnum*uint64(phentsize) > 65536:
		return formatErr(off, "program header table of %d entries of %d bytes is over 64 KiB, which the kernel refuses to load (ENOEXEC)", phnum, phentsize)
	}
	return nil
}

// notELFError is returned for files without the ELF magic.
type notELFError struct{ msg string }

func (e *notELFError) Error() string { return e.msg }
func (e *notELFError) Unwrap() error { return ErrNotELF }

// Maximum interpreter path the kernel accepts (PATH_MAX).
const maxInterp = 4096

// File is the dynamic-linking view of one ELF file.
type File struct {
	Path    string // as given to Open; "" after Parse
	Class   Class
	Data    Data
	OSABI   uint8
	Machine Machine
	Type    Type
	Linkage Linkage
	Entry   uint64

	Interp       string   // PT_INTERP without the NUL; "" if none
	Needed       []string // DT_NEEDED in order
	RPath        string   // DT_RPATH, colon-separated; "" when absent
	RunPath      string   // DT_RUNPATH, colon-separated; "" when absent
	HasRPath     bool     // a DT_RPATH entry exists (it may be empty)
	HasRunPath   bool     // a DT_RUNPATH entry exists (it may be empty)
	Audit        string   // DT_AUDIT (rtld-audit modules ld.so loads first); "" when absent
	SOName       string
	VersionNeeds []VersionNeed
	Flags        uint64 // DT_FLAGS
	Flags1       uint64 // DT_FLAGS_1

	// Problems lists non-fatal findings: a relative PT_INTERP, two
	// PT_INTERP headers, a PT_INTERP outside every PT_LOAD, ...
	Problems []string

	Progs    []Prog    // program headers in table order
	Sections []Section // section headers; nil when the file has none
	Dynamic  []Dyn     // dynamic entries before the first DT_NULL

	// Layout the writer needs.
	size      int64
	bo        binary.ByteOrder
	phoff     uint64
	phentsize uint16
	shoff     uint64
	shentsize uint16
	xnum      bool // e_phnum or e_shnum is stored in section 0

	interpIdx   int      // index in Progs of the (first) PT_INTERP, or -1
	interpCount int      // number of PT_INTERP headers
	interpBad   bool     // the PT_INTERP has a problem that a new interpreter fixes
	dynCount    int      // number of PT_DYNAMIC headers
	verStrRefs  []uint64 // string table offsets used by version needs/definitions
	dynIdx      int      // index in Progs of PT_DYNAMIC, or -1
	dynCap      int      // entries that fit in PT_DYNAMIC's file size
	strOff      uint64   // file offset of DT_STRTAB
	strtab      []byte   // the dynamic string table (DT_STRSZ bytes)
}

// Open reads the ELF file at path. Errors name the path.
func Open(path string) (*File, error) {
	// O_NONBLOCK so that a FIFO is reported instead of blocking the open.
	fd, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: cannot open: %w", path, err)
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: stat: %w", path, err)
	}
	switch {
	case st.IsDir():
		return nil, fmt.Errorf("%s: is a directory, not an ELF file", path)
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("%s: is %s, not an ELF file", path, fsutil.Kind(st.Mode()))
	}
	f, err := Parse(fd, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.Path = path
	return f, nil
}

// reader reads bounded pieces of the input.
type reader struct {
	r    io.ReaderAt
	size uint64
}

// at returns n bytes at off, failing if the range runs past the end of
// the input. n is checked before anything is allocated.
func (rd *reader) at(off, n uint64, what string) ([]byte, error) {
	if off > rd.size || n > rd.size-off {
		return nil, formatErr(off, "%s (%d bytes at offset %#x) runs past the end of the file (%d bytes)", what, n, off, rd.size)
	}
	b := make([]byte, n)
	if n == 0 {
		return b, nil
	}
	if _, err := rd.r.ReadAt(b, int64(off)); err != nil && !(errors.Is(err, io.EOF)) {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return b, nil
}

// Parse reads an ELF file of the given size from r.
func Parse(r io.ReaderAt, size int64) (*File, error) {
	if size < 0 {
		return nil, errors.New("negative size")
	}
	switch r.(type) {
	case *os.File, FD:
		br := newBlockReader(r, size)
		defer br.release()
		r = br
	}
	rd := &reader{r: r, size: uint64(size)}
	n := uint64(64)
	if rd.size < n {
		n = rd.size
	}
	head, err := rd.at(0, n, "ELF header")
	if err != nil {
		return nil, err
	}
	if err := checkMagic(head); err != nil {
		return nil, err
	}
	f := &File{size: size, interpIdx: -1, dynIdx: -1}
	f.Class = Class(head[4])
	f.Data = Data(head[5])
	switch f.Data {
	case Data2LSB:
		f.bo = binary.LittleEndian
	case Data2MSB:
		f.bo = binary.BigEndian
	default:
		return nil, formatErr(5, "unknown data encoding %d", head[5])
	}
	var ehsize uint64
	switch f.Class {
	case Class32:
		ehsize = 52
	case Class64:
		ehsize = 64
	default:
		return nil, formatErr(4, "unknown ELF class %d", head[4])
	}
	if head[6] != 1 {
		return nil, formatErr(6, "unknown ELF version %d", head[6])
	}
	if uint64(len(head)) < ehsize {
		return nil, formatErr(0, "truncated ELF header: file has %d bytes, the header needs %d", size, ehsize)
	}
	f.OSABI = head[7]
	bo := f.bo
	f.Type = Type(bo.Uint16(head[16:]))
	f.Machine = Machine(bo.Uint16(head[18:]))
	var phnum, shnum, shstrndx uint64
	var phentsize, shentsize uint16
	if f.Class == Class64 {
		f.Entry = bo.Uint64(head[24:])
		f.phoff = bo.Uint64(head[32:])
		f.shoff = bo.Uint64(head[40:])
		phentsize = bo.Uint16(head[54:])
		phnum = uint64(bo.Uint16(head[56:]))
		shentsize = bo.Uint16(head[58:])
		shnum = uint64(bo.Uint16(head[60:]))
		shstrndx = uint64(bo.Uint16(head[62:]))
	} else {
		f.Entry = uint64(bo.Uint32(head[24:]))
		f.phoff = uint64(bo.Uint32(head[28:]))
		f.shoff = uint64(bo.Uint32(head[32:]))
		phentsize = bo.Uint16(head[42:])
		phnum = uint64(bo.Uint16(head[44:]))
		shentsize = bo.Uint16(head[46:])
		shnum = uint64(bo.Uint16(head[48:]))
		shstrndx = uint64(bo.Uint16(head[50:]))
	}
	f.phentsize, f.shentsize = phentsize, shentsize
	if err := kernelRefuses(f.Class, f.Type, phnum, phentsize); err != nil {
		return nil, err
	}

	// Section headers first: with e_phnum == PN_XNUM or e_shnum == 0 the
	// real counts live in section 0.
	minSh := uint16(40)
	if f.Class == Class64 {
		minSh = 64
	}
	if f.shoff != 0 {
		if shentsize < minSh {
			return nil, formatErr(58, "section header entry size %d is smaller than %d", shentsize, minSh)
		}
		s0, err := rd.at(f.shoff, uint64(shentsize), "section header 0")
		if err != nil {
			return nil, err
		}
		sec0 := f.decodeSection(s0)
		if shnum == 0 {
			shnum = sec0.Size
			f.xnum = shnum != 0
		}
		if shstrndx == 0xffff {
			shstrndx = uint64(sec0.Link)
			f.xnum = true
		}
		if phnum == 0xffff {
			phnum = uint64(sec0.Info)
			f.xnum = true
		}
		if shnum > rd.size/uint64(shentsize) {
			return nil, formatErr(f.shoff, "section header table (%d entries of %d bytes at %#x) runs past the end of the file (%d bytes)", shnum, shentsize, f.shoff, size)
		}
		tab, err := rd.at(f.shoff, shnum*uint64(shentsize), "section header table")
		if err != nil {
			return nil, err
		}
		f.Sections = make([]Section, shnum)
		for i := range f.Sections {
			s := f.decodeSection(tab[uint64(i)*uint64(shentsize):])
			if s.Type != SHTNobits && s.Type != SHTNull && s.Size != 0 && (s.Off > rd.size || s.Size > rd.size-s.Off) {
				return nil, formatErr(f.shoff+uint64(i)*uint64(shentsize), "section %d runs past the end of the file (offset %#x, size %#x, file %d bytes)", i, s.Off, s.Size, size)
			}
			f.Sections[i] = s
		}
		if shstrndx != 0 && shstrndx < shnum {
			ss := f.Sections[shstrndx]
			if ss.Type != SHTNobits && ss.Size > 0 {
				names, err := rd.at(ss.Off, ss.Size, "section name table")
				if err != nil {
					return nil, err
				}
				for i := range f.Sections {
					f.Sections[i].Name, _ = cstring(names, uint64(f.Sections[i].NameOff))
				}
			}
		}
	} else if shnum != 0 {
		return nil, formatErr(60, "e_shnum is %d but e_shoff is 0", shnum)
	}

	// Program headers.
	minPh := uint16(32)
	if f.Class == Class64 {
		minPh = 56
	}
	if phnum > 0 {
		if phentsize < minPh {
			return nil, formatErr(54, "program header entry size %d is smaller than %d", phentsize, minPh)
		}
		if phnum > rd.size/uint64(phentsize) {
			return nil, formatErr(f.phoff, "program header table (%d entries of %d bytes at %#x) runs past the end of the file (%d bytes)", phnum, phentsize, f.phoff, size)
		}
		tab, err := rd.at(f.phoff, phnum*uint64(phentsize), "program header table")
		if err != nil {
			return nil, err
		}
		f.Progs = make([]Prog, phnum)
		for i := range f.Progs {
			p := f.decodeProg(tab[uint64(i)*uint64(phentsize):])
			if p.Filesz != 0 && (p.Off > rd.size || p.Filesz > rd.size-p.Off) {
				return nil, formatErr(f.phoff+uint64(i)*uint64(phentsize), "program header %d (%s) runs past the end of the file (offset %#x, file size %#x, file %d bytes)", i, p.Type, p.Off, p.Filesz, size)
			}
			if p.Type == PTLoad && p.Filesz > p.Memsz {
				f.problem("PT_LOAD %d has p_filesz %#x larger than p_memsz %#x", i, p.Filesz, p.Memsz)
			}
			f.Progs[i] = p
		}
	}

	if err := f.readInterp(rd); err != nil {
		return nil, err
	}
	if err := f.readDynamic(rd); err != nil {
		return nil, err
	}
	f.Linkage = f.linkage()
	return f, nil
}

func checkMagic(head []byte) error {
	if len(head) >= 4 && string(head[:4]) == "\x7fELF" {
		if len(head) < 16 {
			return formatErr(0, "truncated ELF header: file has %d bytes", len(head))
		}
		return nil
	}
	if len(head) >= 2 && head[0] == '#' && head[1] == '!' {
		line := head[2:]
		if i := bytes.IndexAny(line, "\n\x00"); i >= 0 {
			line = line[:i]
		}
		return &notELFError{fmt.Sprintf("is a script (#!%s), not an ELF file", bytes.TrimSpace(line))}
	}
	if len(head) == 0 {
		return &notELFError{"is empty, not an ELF file"}
	}
	n := len(head)
	if n > 4 {
		n = 4
	}
	return &notELFError{fmt.Sprintf("not an ELF file (starts with %s)", strconv.Quote(string(head[:n])))}
}

func (f *File) problem(format string, args ...any) {
	f.Problems = append(f.Problems, fmt.Sprintf(format, args...))
}

func (f *File) decodeSection(b []byte) Section {
	bo := f.bo
	if f.Class == Class64 {
		return Section{
			NameOff: bo.Uint32(b[0:]), Type: bo.Uint32(b[4:]), Flags: bo.Uint64(b[8:]),
			Addr: bo.Uint64(b[16:]), Off: bo.Uint64(b[24:]), Size: bo.Uint64(b[32:]),
			Link: bo.Uint32(b[40:]), Info: bo.Uint32(b[44:]), Addralign: bo.Uint64(b[48:]), Entsize: bo.Uint64(b[56:]),
		}
	}
	return Section{
		NameOff: bo.Uint32(b[0:]), Type: bo.Uint32(b[4:]), Flags: uint64(bo.Uint32(b[8:])),
		Addr: uint64(bo.Uint32(b[12:])), Off: uint64(bo.Uint32(b[16:])), Size: uint64(bo.Uint32(b[20:])),
		Link: bo.Uint32(b[24:]), Info: bo.Uint32(b[28:]), Addralign: uint64(bo.Uint32(b[32:])), Entsize: uint64(bo.Uint32(b[36:])),
	}
}

func (f *File) decodeProg(b []byte) Prog {
	bo := f.bo
	if f.Class == Class64 {
		return Prog{
			Type: ProgType(bo.Uint32(b[0:])), Flags: bo.Uint32(b[4:]), Off: bo.Uint64(b[8:]),
			Vaddr: bo.Uint64(b[16:]), Paddr: bo.Uint64(b[24:]), Filesz: bo.Uint64(b[32:]),
			Memsz: bo.Uint64(b[40:]), Align: bo.Uint64(b[48:]),
		}
	}
	return Prog{
		Type: ProgType(bo.Uint32(b[0:])), Off: uint64(bo.Uint32(b[4:])), Vaddr: uint64(bo.Uint32(b[8:])),
		Paddr: uint64(bo.Uint32(b[12:])), Filesz: uint64(bo.Uint32(b[16:])), Memsz: uint64(bo.Uint32(b[20:])),
		Flags: bo.Uint32(b[24:]), Align: uint64(bo.Uint32(b[28:])),
	}
}

// cstring returns the NUL-terminated string at off in tab.
func cstring(tab []byte, off uint64) (string, bool) {
	if off >= uint64(len(tab)) {
		return "", false
	}
	s := tab[off:]
	i := bytes.IndexByte(s, 0)
	if i < 0 {
		return "", false
	}
	return string(s[:i]), true
}

// loadFor returns the PT_LOAD whose file-backed part holds the n bytes at
// virtual address addr, and the matching file offset.
func (f *File) vaddrToOff(addr, n uint64) (uint64, bool) {
	for _, p := range f.Progs {
		if p.Type != PTLoad {
			continue
		}
		if addr >= p.Vaddr && addr-p.Vaddr <= p.Filesz && n <= p.Filesz-(addr-p.Vaddr) {
			return p.Off + (addr - p.Vaddr), true
		}
	}
	return 0, false
}

// offToVaddr returns the address a PT_LOAD maps file offset off to.
func (f *File) offToVaddr(off uint64) (uint64, bool) {
	for _, p := range f.Progs {
		if p.Type == PTLoad && off >= p.Off && off-p.Off < p.Filesz {
			return p.Vaddr + (off - p.Off), true
		}
	}
	return 0, false
}

// inLoad reports whether the file range [off, off+n) is mapped by a
// PT_LOAD at the virtual address vaddr.
func (f *File) inLoad(off, vaddr, n uint64) bool {
	for _, p := range f.Progs {
		if p.Type != PTLoad {
			continue
		}
		if off >= p.Off && off-p.Off <= p.Filesz && n <= p.Filesz-(off-p.Off) && vaddr-p.Vaddr == off-p.Off {
			return true
		}
	}
	return false
}

func (f *File) readInterp(rd *reader) error {
	count := 0
	for i, p := range f.Progs {
		if p.Type != PTInterp {
			continue
		}
		count++
		if count > 1 {
			continue
		}
		f.interpIdx = i
		if p.Filesz == 0 {
			f.problem("PT_INTERP is empty")
			f.interpBad = true
			continue
		}
		b, err := rd.at(p.Off, p.Filesz, "PT_INTERP")
		if err != nil {
			return err
		}
		n := bytes.IndexByte(b, 0)
		if n < 0 {
			f.problem("PT_INTERP is not NUL-terminated")
			f.interpBad = true
			n = len(b)
		}
		f.Interp = string(b[:n])
		switch {
		case f.Interp == "":
			f.problem("PT_INTERP is empty")
			f.interpBad = true
		case f.Interp[0] != '/':
			f.problem("PT_INTERP %q is a relative path; the kernel resolves it against the current directory", f.Interp)
			f.interpBad = true
		}
		if p.Filesz > maxInterp {
			f.problem("PT_INTERP is %d bytes; the kernel rejects more than %d", p.Filesz, maxInterp)
			f.interpBad = true
		}
		if !f.inLoad(p.Off, p.Vaddr, p.Filesz) {
			f.problem("PT_INTERP (offset %#x, vaddr %#x) lies outside every PT_LOAD", p.Off, p.Vaddr)
			f.interpBad = true
		}
	}
	f.interpCount = count
	if count > 1 {
		f.problem("%d PT_INTERP headers; the kernel uses the first", count)
	}
	return nil
}

func (f *File) dynEntSize() uint64 {
	if f.Class == Class64 {
		return 16
	}
	return 8
}

func (f *File) readDynamic(rd *reader) error {
	count := 0
	for i, p := range f.Progs {
		if p.Type == PTDynamic {
			count++
			if f.dynIdx < 0 {
				f.dynIdx = i
			}
		}
	}
	f.dynCount = count
	if count > 1 {
		f.problem("%d PT_DYNAMIC headers; the first is used", count)
	}
	if f.dynIdx < 0 {
		return nil
	}
	p := f.Progs[f.dynIdx]
	es := f.dynEntSize()
	f.dynCap = int(p.Filesz / es)
	raw, err := rd.at(p.Off, uint64(f.dynCap)*es, "dynamic array")
	if err != nil {
		return err
	}
	for i := 0; i < f.dynCap; i++ {
		var d Dyn
		if f.Class == Class64 {
			d = Dyn{Tag: DynTag(int64(f.bo.Uint64(raw[i*16:]))), Val: f.bo.Uint64(raw[i*16+8:])}
		} else {
			d = Dyn{Tag: DynTag(int32(f.bo.Uint32(raw[i*8:]))), Val: uint64(f.bo.Uint32(raw[i*8+4:]))}
		}
		if d.Tag == DTNull {
			break
		}
		f.Dynamic = append(f.Dynamic, d)
	}
	switch {
	case f.dynCap == 0:
		f.problem("PT_DYNAMIC has no contents in the file (a separate debug-info file?)")
		return nil
	case len(f.Dynamic) == f.dynCap:
		f.problem("dynamic array has no DT_NULL terminator")
	}

	var strtab, strsz uint64
	var haveStrtab, haveStrsz, needStrings bool
	var verneed, verneedNum, verdef, verdefNum uint64
	for _, d := range f.Dynamic {
		switch d.Tag {
		case DTStrtab:
			strtab, haveStrtab = d.Val, true
		case DTStrsz:
			strsz, haveStrsz = d.Val, true
		case DTVerneed:
			verneed = d.Val
		case DTVerneedNum:
			verneedNum = d.Val
		case DTVerdef:
			verdef = d.Val
		case DTVerdefNum:
			verdefNum = d.Val
		case DTFlags:
			f.Flags = d.Val
		case DTFlags1:
			f.Flags1 = d.Val
		}
		if d.Tag.isStringTag() {
			needStrings = true
		}
	}
	if !haveStrtab || !haveStrsz {
		if needStrings || verneedNum > 0 || verdefNum > 0 {
			return formatErr(p.Off, "dynamic array has string entries but no DT_STRTAB/DT_STRSZ")
		}
		return nil
	}
	off, ok := f.vaddrToOff(strtab, strsz)
	if !ok {
		return formatErr(p.Off, "dynamic string table (DT_STRTAB %#x, DT_STRSZ %#x) is not inside any PT_LOAD's file contents", strtab, strsz)
	}
	f.strOff = off
	if f.strtab, err = rd.at(off, strsz, "dynamic string table"); err != nil {
		return err
	}
	str := func(d Dyn) (string, error) {
		s, ok := cstring(f.strtab, d.Val)
		if !ok {
			return "", formatErr(p.Off, "DT_%s string offset %#x is outside the dynamic string table (%d bytes) or unterminated", d.Tag, d.Val, len(f.strtab))
		}
		return s, nil
	}
	for _, d := range f.Dynamic {
		if !d.Tag.isStringTag() {
			continue
		}
		s, err := str(d)
		if err != nil {
			return err
		}
		switch d.Tag {
		case DTNeeded:
			f.Needed = append(f.Needed, s)
		case DTSOName:
			f.SOName = s
		case DTRPath:
			if f.HasRPath {
				f.problem("more than one DT_RPATH; ld.so uses the first")
				continue
			}
			f.RPath, f.HasRPath = s, true
		case DTRunPath:
			if f.HasRunPath {
				f.problem("more than one DT_RUNPATH; ld.so uses the first")
				continue
			}
			f.RunPath, f.HasRunPath = s, true
		case DTAudit:
			if f.Audit == "" {
				f.Audit = s
			}
		}
	}
	if verneedNum > 0 {
		if err := f.readVerneed(rd, verneed, verneedNum); err != nil {
			return err
		}
	}
	if verdefNum > 0 {
		if err := f.readVerdef(rd, verdef, verdefNum); err != nil {
			return err
		}
	}
	return nil
}

// readVerdef walks the Elf_Verdef chain (20-byte entries with 8-byte aux
// entries) only to learn which strings it uses; the writer must not
// overwrite them.
func (f *File) readVerdef(rd *reader, addr, num uint64) error {
	budget := rd.size / 8
	if num > budget {
		return formatErr(0, "DT_VERDEFNUM %d is larger than the file could hold", num)
	}
	off, ok := f.vaddrToOff(addr, 20)
	if !ok {
		return formatErr(0, "DT_VERDEF %#x is not inside any PT_LOAD's file contents", addr)
	}
	for i := uint64(0); i < num; i++ {
		b, err := rd.at(off, 20, "version definition entry")
		if err != nil {
			return err
		}
		cnt := uint64(f.bo.Uint16(b[6:]))
		aux := off + uint64(f.bo.Uint32(b[12:]))
		for j := uint64(0); j < cnt; j++ {
			if budget == 0 {
				return formatErr(aux, "version definition chain is longer than the file could hold")
			}
			budget--
			a, err := rd.at(aux, 8, "version definition aux entry")
			if err != nil {
				return err
			}
			name := uint64(f.bo.Uint32(a[0:]))
			if _, ok := cstring(f.strtab, name); !ok {
				return formatErr(aux, "version definition name offset is outside the dynamic string table")
			}
			f.verStrRefs = append(f.verStrRefs, name)
			next := uint64(f.bo.Uint32(a[4:]))
			if next == 0 {
				break
			}
			aux += next
		}
		next := uint64(f.bo.Uint32(b[16:]))
		if next == 0 {
			break
		}
		off += next
	}
	return nil
}

// readVerneed walks the Elf_Verneed chain. Entries are 16 bytes in both
// classes; the walk is bounded by the file size, so a cyclic chain ends.
func (f *File) readVerneed(rd *reader, addr, num uint64) error {
	budget := rd.size / 16 // no honest file holds more entries than this
	if num > budget {
		return formatErr(0, "DT_VERNEEDNUM %d is larger than the file could hold", num)
	}
	off, ok := f.vaddrToOff(addr, 16)
	if !ok {
		return formatErr(0, "DT_VERNEED %#x is not inside any PT_LOAD's file contents", addr)
	}
	for i := uint64(0); i < num; i++ {
		b, err := rd.at(off, 16, "version need entry")
		if err != nil {
			return err
		}
		cnt := uint64(f.bo.Uint16(b[2:]))
		fileOff := uint64(f.bo.Uint32(b[4:]))
		f.verStrRefs = append(f.verStrRefs, fileOff)
		file, ok := cstring(f.strtab, fileOff)
		if !ok {
			return formatErr(off, "version need file name offset is outside the dynamic string table")
		}
		vn := VersionNeed{File: file}
		aux := off + uint64(f.bo.Uint32(b[8:]))
		for j := uint64(0); j < cnt; j++ {
			if budget == 0 {
				return formatErr(aux, "version need chain is longer than the file could hold")
			}
			budget--
			a, err := rd.at(aux, 16, "version need aux entry")
			if err != nil {
				return err
			}
			nameOff := uint64(f.bo.Uint32(a[8:]))
			f.verStrRefs = append(f.verStrRefs, nameOff)
			name, ok := cstring(f.strtab, nameOff)
			if !ok {
				return formatErr(aux, "version name offset is outside the dynamic string table")
			}
			vn.Versions = append(vn.Versions, name)
			next := uint64(f.bo.Uint32(a[12:]))
			if next == 0 {
				break
			}
			aux += next
		}
		f.VersionNeeds = append(f.VersionNeeds, vn)
		next := uint64(f.bo.Uint32(b[12:]))
		if next == 0 {
			break
		}
		off += next
	}
	return nil
}

func (f *File) linkage() Linkage {
	if f.interpIdx >= 0 {
		return Dynamic
	}
	if f.dynIdx < 0 || f.Type != TypeDyn {
		return Static
	}
	if f.Flags1&DF1PIE != 0 {
		return StaticPIE
	}
	return Dynamic
}
