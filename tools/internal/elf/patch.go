package elf

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// PatchOptions says what Patch changes. The zero value changes nothing.
type PatchOptions struct {
	// Interpreter is the new PT_INTERP, an absolute path. "" keeps the
	// current one.
	Interpreter string
	// InterpSlot, when > 0, makes PT_INTERP exactly this many bytes (the
	// path, then NUL padding), so a later re-pointing to any path of up to
	// InterpSlot-1 bytes is an in-place write (see SetInterpInPlace). At
	// most 4096, the kernel's limit.
	InterpSlot int
	// SetRPath writes RPath as DT_RPATH and drops DT_RUNPATH (which would
	// make ld.so ignore DT_RPATH). An empty RPath removes both entries.
	SetRPath bool
	RPath    string
	// SetRunPath writes RunPath as DT_RUNPATH and drops DT_RPATH. An
	// empty RunPath removes both entries.
	SetRunPath bool
	RunPath    string
	// ForceRPath makes SetRunPath write DT_RPATH instead, the way
	// patchelf's --force-rpath does.
	ForceRPath bool
}

func (o PatchOptions) validate() error {
	if o.SetRPath && o.SetRunPath {
		return errors.New("set either an RPATH or a RUNPATH, not both")
	}
	if o.Interpreter != "" {
		switch {
		case o.Interpreter[0] != '/':
			return fmt.Errorf("interpreter %q is not an absolute path; the kernel would resolve it against the current directory", o.Interpreter)
		case strings.IndexByte(o.Interpreter, 0) >= 0:
			return fmt.Errorf("interpreter %q contains a NUL byte", o.Interpreter)
		case len(o.Interpreter)+1 > maxInterp:
			return fmt.Errorf("interpreter path is %d bytes; the kernel accepts at most %d", len(o.Interpreter), maxInterp-1)
		}
	}
	if o.InterpSlot < 0 || o.InterpSlot > maxInterp {
		return fmt.Errorf("interpreter slot of %d bytes: must be between 1 and %d (the kernel's limit)", o.InterpSlot, maxInterp)
	}
	if strings.IndexByte(o.RPath, 0) >= 0 || strings.IndexByte(o.RunPath, 0) >= 0 {
		return errors.New("search path contains a NUL byte")
	}
	return nil
}

// pageSize is the largest page size the machine's ABI allows; new
// segments are placed at an address congruent to their file offset
// modulo it, so they load on any kernel page size of that machine.
func (f *File) pageSize() uint64 {
	var p uint64
	switch f.Machine {
	case EMX86_64, EM386, EMS390, EMRISCV:
		p = 0x1000
	case EMSPARCV9:
		p = 0x100000
	default: // aarch64, arm, ppc, ppc64, mips, loongarch, ... and unknown
		p = 0x10000
	}
	for _, pr := range f.Progs {
		if pr.Type == PTLoad && pr.Align > p && pr.Align&(pr.Align-1) == 0 && pr.Align <= 1<<30 {
			p = pr.Align
		}
	}
	return p
}

func alignUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }

// Patch returns a copy of the ELF file in with the changes opts asks for.
// It never changes in. When opts asks for what the file already has, the
// result is byte-identical to in.
//
// A new string that fits over the old one is written in place. Otherwise
// Patch appends one PT_LOAD segment, read-only (read-write if it holds the
// dynamic array, which ld.so writes to), at the end of the file and at an
// address above every other segment, congruent to its offset modulo the
// machine's largest page size. It holds the program header table (moved
// there so it can list the new segment; PT_PHDR follows it) and whatever
// did not fit: the interpreter string, a copy of the dynamic string table
// with the new search path appended, the dynamic array when an entry has to
// be added and it has no spare DT_NULL slot. Section headers of .interp,
// .dynstr and .dynamic, when present, follow what moved. A file that
// already ends in such a segment has it rebuilt instead of getting a second.
func Patch(in []byte, opts PatchOptions) ([]byte, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	f, err := Parse(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		return nil, err
	}
	p, err := newPatch(f, in, opts)
	if err != nil {
		return nil, err
	}
	if !p.interpChange && !p.pathChange {
		return bytes.Clone(in), nil
	}
	out, err := p.build()
	if err != nil {
		return nil, err
	}
	if err := p.check(out); err != nil {
		return nil, fmt.Errorf("internal error, the patched file does not read back right (please report): %w", err)
	}
	return out, nil
}

type patch struct {
	f    *File
	in   []byte
	opts PatchOptions

	wantInterp   string
	wantSlot     uint64
	interpChange bool

	wantTag    DynTag // DTRPath, DTRunPath, or DTNull to remove both
	wantPath   string
	pathChange bool
}

func newPatch(f *File, in []byte, opts PatchOptions) (*patch, error) {
	if f.Type != TypeExec && f.Type != TypeDyn {
		return nil, fmt.Errorf("is a %s file; only executables and shared libraries (EXEC, DYN) can be patched", f.Type)
	}
	if f.xnum {
		return nil, errors.New("has 65535 or more program or section headers; patching such files is not supported")
	}
	if f.interpCount > 1 {
		return nil, fmt.Errorf("has %d PT_INTERP headers; refusing to patch an ambiguous file", f.interpCount)
	}
	p := &patch{f: f, in: in, opts: opts}
	if opts.Interpreter != "" || opts.InterpSlot > 0 {
		if f.interpIdx < 0 {
			switch f.Linkage {
			case Static, StaticPIE:
				return nil, fmt.Errorf("is statically linked (%s, no PT_INTERP); there is no interpreter to change", f.Linkage)
			}
			return nil, errors.New("has no PT_INTERP (a shared library?); there is no interpreter to change")
		}
	}
	if f.interpBad && opts.Interpreter == "" {
		return nil, fmt.Errorf("has a broken PT_INTERP (%s); pass a new interpreter to replace it", strings.Join(f.Problems, "; "))
	}
	if f.interpIdx >= 0 {
		cur := f.Progs[f.interpIdx].Filesz
		p.wantInterp = f.Interp
		if opts.Interpreter != "" {
			p.wantInterp = opts.Interpreter
		}
		need := uint64(len(p.wantInterp)) + 1
		switch {
		case opts.InterpSlot > 0:
			p.wantSlot = uint64(opts.InterpSlot)
			if need > p.wantSlot {
				return nil, fmt.Errorf("interpreter %q needs %d bytes but the interpreter slot is %d", p.wantInterp, need, p.wantSlot)
			}
		case f.interpBad || need > cur:
			p.wantSlot = need
		default:
			p.wantSlot = cur
		}
		p.interpChange = p.wantInterp != f.Interp || p.wantSlot != cur
	}

	if opts.SetRPath || opts.SetRunPath {
		if f.dynIdx < 0 || f.dynCap == 0 {
			return nil, fmt.Errorf("is statically linked (%s, no dynamic section); there is no library search path to set", f.Linkage)
		}
		if f.dynCount > 1 {
			return nil, fmt.Errorf("has %d PT_DYNAMIC headers; refusing to patch an ambiguous file", f.dynCount)
		}
		if f.strtab == nil {
			return nil, errors.New("has a dynamic section without a string table (DT_STRTAB/DT_STRSZ)")
		}
		switch {
		case opts.SetRPath:
			p.wantTag, p.wantPath = DTRPath, opts.RPath
		case opts.ForceRPath:
			p.wantTag, p.wantPath = DTRPath, opts.RunPath
		default:
			p.wantTag, p.wantPath = DTRunPath, opts.RunPath
		}
		if p.wantPath == "" {
			p.wantTag = DTNull
		}
		var nR, nRun int
		for _, d := range f.Dynamic {
			switch d.Tag {
			case DTRPath:
				nR++
			case DTRunPath:
				nRun++
			}
		}
		switch p.wantTag {
		case DTRPath:
			p.pathChange = !(nR == 1 && nRun == 0 && f.RPath == p.wantPath)
		case DTRunPath:
			p.pathChange = !(nRun == 1 && nR == 0 && f.RunPath == p.wantPath)
		default:
			p.pathChange = nR+nRun > 0
		}
	}
	return p, nil
}

// ownSegment returns the index in f.Progs of a segment that an earlier
// Patch appended, or -1. Such a segment is the last PT_LOAD by table
// order, address and offset, ends the file, is not executable, starts
// with the program header table, and holds nothing but what Patch puts
// there (the program headers, PT_INTERP, the dynamic array and the dynamic
// string table), so it can be rebuilt from scratch.
func (f *File) ownSegment() int {
	last, loads := -1, 0
	for i, p := range f.Progs {
		if p.Type == PTLoad {
			loads++
			last = i
		}
	}
	if loads < 2 {
		return -1
	}
	l := f.Progs[last]
	if l.Off+l.Filesz != uint64(f.size) || l.Filesz != l.Memsz || l.Flags&PFX != 0 || f.phoff != l.Off || l.Filesz == 0 {
		return -1
	}
	inside := func(off uint64) bool { return off >= l.Off }
	for i, p := range f.Progs {
		if i == last {
			continue
		}
		if p.Type == PTLoad && (p.Off+p.Filesz > l.Off || p.Vaddr+p.Memsz > l.Vaddr) {
			return -1
		}
		if p.Filesz > 0 && inside(p.Off) && p.Type != PTPhdr && p.Type != PTInterp && p.Type != PTDynamic {
			return -1
		}
	}
	if f.shoff != 0 && inside(f.shoff) {
		return -1
	}
	if f.Entry >= l.Vaddr && f.Entry-l.Vaddr < l.Memsz {
		return -1
	}
	var interp, dyn Prog
	if f.interpIdx >= 0 {
		interp = f.Progs[f.interpIdx]
	}
	if f.dynIdx >= 0 {
		dyn = f.Progs[f.dynIdx]
	}
	for _, s := range f.Sections {
		if s.Type == SHTNobits || s.Size == 0 || !inside(s.Off) {
			continue
		}
		switch {
		case f.interpIdx >= 0 && s.Off == interp.Off:
		case f.dynIdx >= 0 && s.Type == SHTDynamic && s.Off == dyn.Off:
		case f.strtab != nil && s.Type == SHTStrtab && s.Off == f.strOff:
		default:
			return -1
		}
	}
	for _, d := range f.Dynamic {
		if d.Tag != DTStrtab && d.Val >= l.Vaddr && d.Val-l.Vaddr < l.Memsz {
			return -1
		}
	}
	return last
}

// stringRefs returns every offset into the dynamic string table that the
// file uses, except those of the entries skip selects. complete is false
// when the dynamic symbol table's size cannot be learnt, so its names
// are unknown.
func (f *File) stringRefs(in []byte, skip func(Dyn) bool) (refs []uint64, complete bool) {
	for _, d := range f.Dynamic {
		if d.Tag.isStringTag() && !skip(d) {
			refs = append(refs, d.Val)
		}
	}
	refs = append(refs, f.verStrRefs...)
	names, ok := f.dynsymNames(in)
	return append(refs, names...), ok
}

func (f *File) dynVal(tag DynTag) (uint64, bool) {
	for _, d := range f.Dynamic {
		if d.Tag == tag {
			return d.Val, true
		}
	}
	return 0, false
}

// dynsymNames returns the st_name of every dynamic symbol. The symbol
// count comes from the .dynsym section header, else DT_HASH, else
// DT_GNU_HASH.
func (f *File) dynsymNames(in []byte) ([]uint64, bool) {
	symtab, ok := f.dynVal(DTSymtab)
	if !ok {
		return nil, true
	}
	entsize := uint64(24)
	if f.Class == Class32 {
		entsize = 16
	}
	if v, ok := f.dynVal(DTSyment); ok && v >= 4 {
		entsize = v
	}
	size := uint64(len(in))
	word := func(off uint64) (uint64, bool) {
		if off > size || size-off < 4 {
			return 0, false
		}
		return uint64(f.bo.Uint32(in[off:])), true
	}
	count, found := uint64(0), false
	for _, s := range f.Sections {
		if s.Type == SHTDynsym && s.Addr == symtab {
			count, found = s.Size/entsize, true
			break
		}
	}
	if !found {
		if h, ok := f.dynVal(DTHash); ok {
			if off, ok := f.vaddrToOff(h, 8); ok {
				if f.Machine == EMS390 && f.Class == Class64 { // 64-bit hash words
					if off+16 <= size {
						count, found = f.bo.Uint64(in[off+8:]), true
					}
				} else if n, ok := word(off + 4); ok {
					count, found = n, true
				}
			}
		}
	}
	if !found {
		if h, ok := f.dynVal(DTGNUHash); ok {
			count, found = f.gnuHashCount(in, h)
		}
	}
	if !found || count > size/entsize {
		return nil, false
	}
	off, ok := f.vaddrToOff(symtab, count*entsize)
	if !ok {
		return nil, false
	}
	names := make([]uint64, 0, count)
	for i := uint64(0); i < count; i++ {
		names = append(names, uint64(f.bo.Uint32(in[off+i*entsize:])))
	}
	return names, true
}

// gnuHashCount counts the symbols a DT_GNU_HASH table covers: the highest
// bucket start, then along its chain to the entry with the low bit set.
func (f *File) gnuHashCount(in []byte, addr uint64) (uint64, bool) {
	size := uint64(len(in))
	off, ok := f.vaddrToOff(addr, 16)
	if !ok {
		return 0, false
	}
	nbuckets := uint64(f.bo.Uint32(in[off:]))
	symoff := uint64(f.bo.Uint32(in[off+4:]))
	bloom := uint64(f.bo.Uint32(in[off+8:]))
	bw := uint64(8)
	if f.Class == Class32 {
		bw = 4
	}
	if nbuckets > size/4 || bloom > size/bw {
		return 0, false
	}
	buckets := off + 16 + bloom*bw
	if buckets > size || size-buckets < nbuckets*4 {
		return 0, false
	}
	maxSym := uint64(0)
	for i := uint64(0); i < nbuckets; i++ {
		if b := uint64(f.bo.Uint32(in[buckets+i*4:])); b > maxSym {
			maxSym = b
		}
	}
	if maxSym < symoff {
		return symoff, true
	}
	chains := buckets + nbuckets*4
	for i := maxSym; ; i++ {
		c := chains + (i-symoff)*4
		if c > size || size-c < 4 {
			return 0, false
		}
		if f.bo.Uint32(in[c:])&1 != 0 {
			return i + 1, true
		}
	}
}

// placeString makes the dynamic string table hold s and returns its
// offset and the (possibly new) table. It reuses an existing copy of s,
// else overwrites one of the old slots that nothing else references when
// s fits, else appends to a copy of the table from which unreferenced
// strings at the end (an old search path) have been dropped. Without a
// complete list of references it only appends.
func placeString(tab []byte, s string, slots []uint64, refs []uint64, complete bool) (uint64, []byte) {
	referenced := func(lo, hi uint64) bool { // any ref in [lo, hi)
		for _, r := range refs {
			if r >= lo && r < hi {
				return true
			}
		}
		return false
	}
	if i := bytes.Index(tab, append([]byte(s), 0)); i >= 0 {
		return uint64(i), tab
	}
	if complete {
		for _, v := range slots {
			old, ok := cstring(tab, v)
			if !ok || len(s) > len(old) || referenced(v, v+uint64(len(old))) {
				continue
			}
			n := copy(tab[v:], s)
			clear(tab[v+uint64(n) : v+uint64(len(old))])
			return v, tab
		}
		for len(tab) > 1 && tab[len(tab)-1] == 0 {
			start := uint64(bytes.LastIndexByte(tab[:len(tab)-1], 0) + 1)
			if start == 0 || referenced(start, uint64(len(tab))) {
				break
			}
			tab = tab[:start]
		}
	}
	if len(tab) == 0 || tab[len(tab)-1] != 0 {
		tab = append(tab, 0)
	}
	off := uint64(len(tab))
	tab = append(append(tab, s...), 0)
	return off, tab
}

func (f *File) encodeProg(b []byte, p Prog) {
	bo := f.bo
	if f.Class == Class64 {
		bo.PutUint32(b[0:], uint32(p.Type))
		bo.PutUint32(b[4:], p.Flags)
		bo.PutUint64(b[8:], p.Off)
		bo.PutUint64(b[16:], p.Vaddr)
		bo.PutUint64(b[24:], p.Paddr)
		bo.PutUint64(b[32:], p.Filesz)
		bo.PutUint64(b[40:], p.Memsz)
		bo.PutUint64(b[48:], p.Align)
		return
	}
	bo.PutUint32(b[0:], uint32(p.Type))
	bo.PutUint32(b[4:], uint32(p.Off))
	bo.PutUint32(b[8:], uint32(p.Vaddr))
	bo.PutUint32(b[12:], uint32(p.Paddr))
	bo.PutUint32(b[16:], uint32(p.Filesz))
	bo.PutUint32(b[20:], uint32(p.Memsz))
	bo.PutUint32(b[24:], p.Flags)
	bo.PutUint32(b[28:], uint32(p.Align))
}

func (f *File) encodeDyn(b []byte, d Dyn) {
	if f.Class == Class64 {
		f.bo.PutUint64(b[0:], uint64(d.Tag))
		f.bo.PutUint64(b[8:], d.Val)
		return
	}
	f.bo.PutUint32(b[0:], uint32(int32(d.Tag)))
	f.bo.PutUint32(b[4:], uint32(d.Val))
}

// setSection rewrites the address, offset and size of section i in out.
func (f *File) setSection(out []byte, i int, addr, off, size uint64) {
	b := out[f.shoff+uint64(i)*uint64(f.shentsize):]
	if f.Class == Class64 {
		f.bo.PutUint64(b[16:], addr)
		f.bo.PutUint64(b[24:], off)
		f.bo.PutUint64(b[32:], size)
		return
	}
	f.bo.PutUint32(b[12:], uint32(addr))
	f.bo.PutUint32(b[16:], uint32(off))
	f.bo.PutUint32(b[20:], uint32(size))
}

func (p *patch) build() ([]byte, error) {
	f, in := p.f, p.in
	ours := f.ownSegment()
	base := uint64(len(in))
	var oursProg Prog
	if ours >= 0 {
		oursProg = f.Progs[ours]
		base = oursProg.Off
	}
	inOurs := func(off uint64) bool { return ours >= 0 && off >= base }

	// Working copies of the program headers (without our old segment) and
	// their raw table slots, which may be larger than the standard entry.
	type progSlot struct {
		p   Prog
		raw []byte
	}
	var progs []progSlot
	interpAt, dynAt, phdrAt, lastLoad := -1, -1, -1, -1
	for i, pr := range f.Progs {
		if i == ours {
			continue
		}
		raw := in[f.phoff+uint64(i)*uint64(f.phentsize):][:f.phentsize]
		switch {
		case i == f.interpIdx:
			interpAt = len(progs)
		case i == f.dynIdx:
			dynAt = len(progs)
		case pr.Type == PTPhdr && phdrAt < 0:
			phdrAt = len(progs)
		case pr.Type == PTLoad:
			lastLoad = len(progs)
		}
		progs = append(progs, progSlot{pr, bytes.Clone(raw)})
	}

	out := bytes.Clone(in[:base])
	es := f.dynEntSize()

	// The dynamic string table and array.
	dynstr := bytes.Clone(f.strtab)
	strInOurs := f.strtab != nil && inOurs(f.strOff)
	newDyn := append([]Dyn(nil), f.Dynamic...)
	dynChanged := false
	if p.pathChange {
		dynChanged = true
		var slots []uint64
		for _, d := range f.Dynamic {
			if d.Tag == DTRPath || d.Tag == DTRunPath {
				slots = append(slots, d.Val)
			}
		}
		var strOff uint64
		if p.wantTag != DTNull {
			refs, complete := f.stringRefs(in, func(d Dyn) bool { return d.Tag == DTRPath || d.Tag == DTRunPath })
			if _, liblist := f.dynVal(DTGNULiblist); liblist {
				complete = false // prelink's .gnu.liblist names strings too
			}
			strOff, dynstr = placeString(dynstr, p.wantPath, slots, refs, complete)
		}
		// Replace the first RPATH/RUNPATH entry, drop the others, or add
		// one at the end.
		kept := newDyn[:0]
		placed := p.wantTag == DTNull
		for _, d := range newDyn {
			if d.Tag == DTRPath || d.Tag == DTRunPath {
				if placed {
					continue
				}
				d = Dyn{Tag: p.wantTag, Val: strOff}
				placed = true
			}
			kept = append(kept, d)
		}
		newDyn = kept
		if !placed {
			newDyn = append(newDyn, Dyn{Tag: p.wantTag, Val: strOff})
		}
	}
	relocStr := strInOurs || len(dynstr) != len(f.strtab)
	if relocStr {
		dynChanged = true
	}
	dynInOurs := dynAt >= 0 && inOurs(progs[dynAt].p.Off)
	relocDyn := dynAt >= 0 && (dynInOurs || (dynChanged && len(newDyn)+1 > f.dynCap))

	// The interpreter.
	relocInterp := false
	if interpAt >= 0 {
		ip := progs[interpAt].p
		if p.interpChange || inOurs(ip.Off) {
			relocInterp = inOurs(ip.Off) || f.interpBad || p.wantSlot > ip.Filesz
		}
	}

	needSeg := ours >= 0 || relocStr || relocDyn || relocInterp
	var seg []byte
	var segOff, segVaddr uint64
	var dynOffIn, interpOffIn, strOffIn uint64
	if needSeg {
		if lastLoad < 0 {
			return nil, errors.New("has no PT_LOAD segment to place new contents after")
		}
		// The new PT_LOAD goes right after the last one, keeping PT_LOAD
		// entries sorted by address.
		nph := len(progs) + 1
		if nph >= 0xffff {
			return nil, errors.New("has too many program headers to add one")
		}
		size := uint64(nph) * uint64(f.phentsize)
		if relocDyn {
			size = alignUp(size, 8)
			dynOffIn = size
			size += uint64(len(newDyn)+1) * es
		}
		if relocInterp {
			interpOffIn = size
			size += p.wantSlot
		}
		if relocStr {
			strOffIn = size
			size += uint64(len(dynstr))
		}
		page := f.pageSize()
		var end uint64
		for _, ps := range progs {
			if ps.p.Type == PTLoad && ps.p.Vaddr+ps.p.Memsz > end {
				end = ps.p.Vaddr + ps.p.Memsz
			}
		}
		segOff = alignUp(base, 8)
		segVaddr = alignUp(end, page) + segOff%page
		if segVaddr < end || (f.Class == Class32 && segVaddr+size > 1<<32) || segVaddr+size < segVaddr {
			return nil, errors.New("has no address space left above its segments for a new one")
		}
		seg = make([]byte, size)
		flags := PFR
		if relocDyn {
			flags |= PFW
		}
		load := Prog{Type: PTLoad, Flags: flags, Off: segOff, Vaddr: segVaddr, Paddr: segVaddr, Filesz: size, Memsz: size, Align: page}
		progs = append(progs[:lastLoad+1], append([]progSlot{{load, make([]byte, f.phentsize)}}, progs[lastLoad+1:]...)...)
		if interpAt > lastLoad {
			interpAt++
		}
		if dynAt > lastLoad {
			dynAt++
		}
		if phdrAt > lastLoad {
			phdrAt++
		}
		if phdrAt >= 0 {
			ph := &progs[phdrAt].p
			ph.Off, ph.Vaddr, ph.Paddr = segOff, segVaddr, segVaddr
			ph.Filesz, ph.Memsz = uint64(nph)*uint64(f.phentsize), uint64(nph)*uint64(f.phentsize)
		}
	}

	// Sections that follow what moves; found before the moves change the
	// program headers they are matched against.
	secInterp, secDynstr, secDyn := -1, -1, -1
	for i, s := range f.Sections {
		switch {
		case interpAt >= 0 && s.Type != SHTNobits && s.Off == f.Progs[f.interpIdx].Off && s.Size > 0 && secInterp < 0:
			secInterp = i
		case f.strtab != nil && s.Type == SHTStrtab && s.Off == f.strOff && s.Addr != 0 && secDynstr < 0:
			secDynstr = i
		case dynAt >= 0 && s.Type == SHTDynamic && s.Off == f.Progs[f.dynIdx].Off && secDyn < 0:
			secDyn = i
		}
	}

	// Write the string table.
	if relocStr {
		copy(seg[strOffIn:], dynstr)
		strVaddr := segVaddr + strOffIn
		for i := range newDyn {
			switch newDyn[i].Tag {
			case DTStrtab:
				newDyn[i].Val = strVaddr
			case DTStrsz:
				newDyn[i].Val = uint64(len(dynstr))
			}
		}
		if secDynstr >= 0 {
			f.setSection(out, secDynstr, strVaddr, segOff+strOffIn, uint64(len(dynstr)))
		}
	} else if p.pathChange {
		copy(out[f.strOff:], dynstr) // same length, changed in place
	}

	// Write the dynamic array.
	if dynChanged || relocDyn {
		var dst []byte
		if relocDyn {
			dst = seg[dynOffIn : dynOffIn+uint64(len(newDyn)+1)*es]
			dp := &progs[dynAt].p
			dp.Off, dp.Vaddr, dp.Paddr = segOff+dynOffIn, segVaddr+dynOffIn, segVaddr+dynOffIn
			dp.Filesz, dp.Memsz = uint64(len(dst)), uint64(len(dst))
			if secDyn >= 0 {
				f.setSection(out, secDyn, dp.Vaddr, dp.Off, dp.Filesz)
			}
		} else {
			dp := f.Progs[f.dynIdx]
			dst = out[dp.Off : dp.Off+uint64(f.dynCap)*es]
		}
		clear(dst)
		for i, d := range newDyn {
			f.encodeDyn(dst[uint64(i)*es:], d)
		}
	}

	// Write the interpreter.
	if interpAt >= 0 && (p.interpChange || relocInterp) {
		ip := &progs[interpAt].p
		var dst []byte
		if relocInterp {
			dst = seg[interpOffIn : interpOffIn+p.wantSlot]
			ip.Off, ip.Vaddr, ip.Paddr = segOff+interpOffIn, segVaddr+interpOffIn, segVaddr+interpOffIn
			ip.Align = 1
		} else {
			dst = out[ip.Off : ip.Off+ip.Filesz]
			clear(dst)
			dst = dst[:p.wantSlot]
		}
		ip.Filesz, ip.Memsz = p.wantSlot, p.wantSlot
		copy(dst, p.wantInterp)
		if secInterp >= 0 {
			f.setSection(out, secInterp, ip.Vaddr, ip.Off, ip.Filesz)
		}
	}

	// Write the program header table and the ELF header.
	table := out[f.phoff:]
	if needSeg {
		table = seg
		if f.Class == Class64 {
			f.bo.PutUint64(out[32:], segOff)
			f.bo.PutUint16(out[56:], uint16(len(progs)))
		} else {
			f.bo.PutUint32(out[28:], uint32(segOff))
			f.bo.PutUint16(out[44:], uint16(len(progs)))
		}
	}
	for i, ps := range progs {
		slot := table[uint64(i)*uint64(f.phentsize):][:f.phentsize]
		copy(slot, ps.raw)
		f.encodeProg(slot, ps.p)
	}

	if needSeg {
		out = append(out, make([]byte, segOff-base)...)
		out = append(out, seg...)
	}
	return out, nil
}

// check re-reads the patched file and confirms it says what was asked.
func (p *patch) check(out []byte) error {
	g, err := Parse(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		return err
	}
	if g.interpBad || g.interpCount > 1 {
		return fmt.Errorf("PT_INTERP problems: %q", g.Problems)
	}
	if g.Interp != p.wantInterp {
		return fmt.Errorf("PT_INTERP reads %q, want %q", g.Interp, p.wantInterp)
	}
	if p.f.interpIdx >= 0 {
		if _, size, _ := g.InterpSlot(); uint64(size) != p.wantSlot {
			return fmt.Errorf("PT_INTERP slot is %d bytes, want %d", size, p.wantSlot)
		}
	}
	if p.opts.SetRPath || p.opts.SetRunPath {
		switch p.wantTag {
		case DTRPath:
			if !g.HasRPath || g.RPath != p.wantPath || g.HasRunPath {
				return fmt.Errorf("DT_RPATH reads %q (RUNPATH present: %v), want %q", g.RPath, g.HasRunPath, p.wantPath)
			}
		case DTRunPath:
			if !g.HasRunPath || g.RunPath != p.wantPath || g.HasRPath {
				return fmt.Errorf("DT_RUNPATH reads %q (RPATH present: %v), want %q", g.RunPath, g.HasRPath, p.wantPath)
			}
		default:
			if g.HasRPath || g.HasRunPath {
				return errors.New("DT_RPATH/DT_RUNPATH still present")
			}
		}
	}
	if !equalStrings(g.Needed, p.f.Needed) || g.SOName != p.f.SOName || len(g.VersionNeeds) != len(p.f.VersionNeeds) {
		return errors.New("DT_NEEDED, DT_SONAME or version needs changed")
	}
	if len(g.Problems) > len(p.f.Problems) {
		return fmt.Errorf("new problems: %q", g.Problems)
	}
	return nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
