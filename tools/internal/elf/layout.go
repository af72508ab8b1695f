package elf

import (
	"bytes"
	"errors"
	"fmt"
)

// PT_MIPS_ABIFLAGS, a small read-only block that MIPS linkers put right
// after .interp; it moves like a note.
const ptMIPSABIFlags ProgType = 0x70000003

// SHF_ALLOC: the section occupies memory at run time.
const shfAlloc = 0x2

// movableNote reports whether a segment of this type is a block of data
// that only its program header points at (notes, GNU properties, MIPS ABI
// flags), so it can move anywhere inside a PT_LOAD.
func (f *File) movableNote(t ProgType) bool {
	return t == PTNote || t == PTGNUProperty || (t == ptMIPSABIFlags && f.Machine == EMMIPS)
}

// span is a half-open range of file offsets.
type span struct{ lo, hi uint64 }

func (s span) overlaps(o span) bool { return s.lo < o.hi && o.lo < s.hi }

// Section types of tables that only dynamic entries and section headers
// point at, so they can move: notes, the symbol hash tables, the symbol
// version tables and the dynamic symbol table.
func movableSection(t uint32) bool {
	switch t {
	case 7, 5, 11, 0x6ffffff6, 0x6ffffffd, 0x6ffffffe, 0x6fffffff:
		return true
	}
	return false
}

// movableTags are the dynamic entries that hold the address of a table of
// a movable section.
func movableTag(t DynTag) bool {
	switch t {
	case DTGNUHash, DTHash, DTSymtab, DTVerneed, DTVerdef, DTVersym:
		return true
	}
	return false
}

// moveBlocks returns the disjoint file ranges of movable contents whose
// offset keep selects: note segments and, when the file has section
// headers, the movable sections. Overlapping ranges (a PT_GNU_PROPERTY
// inside a PT_NOTE) merge; adjacent ones stay apart, so only what is in
// the way moves. Sorted by offset.
func (f *File) moveBlocks(keep func(off uint64) bool) []span {
	var cand []span
	for _, p := range f.Progs {
		if f.movableNote(p.Type) && p.Filesz > 0 && keep(p.Off) {
			cand = append(cand, span{p.Off, p.Off + p.Filesz})
		}
	}
	for _, s := range f.Sections {
		if movableSection(s.Type) && s.Size > 0 && s.Flags&shfAlloc != 0 && keep(s.Off) {
			cand = append(cand, span{s.Off, s.Off + s.Size})
		}
	}
	var bl []span
	for _, c := range cand {
		for i := 0; i < len(bl); {
			if bl[i].overlaps(c) {
				c = span{min(bl[i].lo, c.lo), max(bl[i].hi, c.hi)}
				bl = append(bl[:i], bl[i+1:]...)
				continue
			}
			i++
		}
		bl = append(bl, c)
	}
	for i := 1; i < len(bl); i++ {
		for j := i; j > 0 && bl[j].lo < bl[j-1].lo; j-- {
			bl[j], bl[j-1] = bl[j-1], bl[j]
		}
	}
	return bl
}

// ownSegment returns the index in f.Progs of a segment that an earlier
// Patch appended, or -1. Such a segment is the last PT_LOAD by table
// order, address and offset, ends the file, is not executable, and holds
// nothing but what Patch puts there (the program header table, PT_INTERP,
// notes, the dynamic array and the dynamic string table), so it can be
// rebuilt from scratch.
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
	if l.Off+l.Filesz != uint64(f.size) || l.Filesz != l.Memsz || l.Flags&PFX != 0 || l.Filesz == 0 {
		return -1
	}
	inside := func(off uint64) bool { return off >= l.Off }
	if inside(f.phoff) && f.phoff != l.Off {
		return -1
	}
	for i, p := range f.Progs {
		if i == last {
			continue
		}
		if p.Type == PTLoad && (p.Off+p.Filesz > l.Off || p.Vaddr+p.Memsz > l.Vaddr) {
			return -1
		}
		if p.Filesz > 0 && inside(p.Off) && p.Type != PTPhdr && p.Type != PTInterp && p.Type != PTDynamic && !f.movableNote(p.Type) {
			return -1
		}
	}
	if f.shoff != 0 && inside(f.shoff) {
		return -1
	}
	if f.Entry >= l.Vaddr && f.Entry-l.Vaddr < l.Memsz {
		return -1
	}
	blocks := f.moveBlocks(inside)
	for _, s := range f.Sections {
		if s.Type == SHTNobits || s.Size == 0 || !inside(s.Off) {
			continue
		}
		ok := false
		switch {
		case f.interpIdx >= 0 && s.Off == f.Progs[f.interpIdx].Off:
			ok = true
		case f.dynIdx >= 0 && s.Type == SHTDynamic && s.Off == f.Progs[f.dynIdx].Off:
			ok = true
		case f.strtab != nil && s.Type == SHTStrtab && s.Off == f.strOff:
			ok = true
		}
		for _, b := range blocks {
			if s.Off >= b.lo && s.Off+s.Size <= b.hi {
				ok = true
			}
		}
		if !ok {
			return -1
		}
	}
	for _, d := range f.Dynamic {
		if d.Tag != DTStrtab && !movableTag(d.Tag) && d.Val >= l.Vaddr && d.Val-l.Vaddr < l.Memsz {
			return -1
		}
	}
	return last
}

// roomForPhdr works out whether the program header table can grow in
// place to need bytes by moving the PT_INTERP contents and movable blocks
// (notes, hash, version and symbol tables) that follow it into the new
// segment. It returns whether it can, whether the interpreter must move,
// and the blocks to move. Growing in place keeps e_phoff inside the first
// PT_LOAD, where kernels before 5.18 (and qemu-user) assume AT_PHDR to be.
func (f *File) roomForPhdr(in []byte, need uint64, base uint64, interp *Prog) (ok, moveInterp bool, blocks []span) {
	if f.phoff >= base {
		return false, false, nil
	}
	tableEnd := f.phoff + uint64(len(f.Progs))*uint64(f.phentsize)
	if f.phoff+need <= tableEnd {
		return true, false, nil
	}
	var extra []span
	if interp != nil && interp.Off < base && interp.Filesz > 0 {
		extra = append(extra, span{interp.Off, interp.Off + interp.Filesz})
	}
	return f.makeRoom(in, span{tableEnd, f.phoff + need}, base, f.phoff, extra)
}

// makeRoom works out whether the file range grow, which follows the
// contents starting at anchor in the same PT_LOAD, can be freed by moving
// movable blocks below base and the extra spans. It returns whether it
// can, whether an extra span is in the way, and the blocks to move.
func (f *File) makeRoom(in []byte, grow span, base, anchor uint64, extra []span) (ok, moveExtra bool, blocks []span) {
	covered := false
	for _, p := range f.Progs {
		if p.Type == PTLoad && p.Off <= anchor && anchor-p.Off < p.Filesz && grow.hi <= p.Off+p.Filesz {
			covered = true
		}
	}
	if !covered || grow.hi > base {
		return false, false, nil
	}
	movable := append([]span(nil), extra...)
	for _, e := range extra {
		if e.overlaps(grow) {
			moveExtra = true
		}
	}
	for _, b := range f.moveBlocks(func(off uint64) bool { return off < base }) {
		movable = append(movable, b)
		if b.overlaps(grow) {
			blocks = append(blocks, b)
		}
	}
	within := func(s span) bool {
		for _, m := range movable {
			if s.lo >= m.lo && s.hi <= m.hi {
				return true
			}
		}
		return false
	}
	for _, p := range f.Progs {
		switch {
		case p.Type == PTLoad || p.Type == PTPhdr || p.Type == PTInterp || f.movableNote(p.Type) || p.Filesz == 0:
		case (span{p.Off, p.Off + p.Filesz}).overlaps(grow):
			return false, false, nil
		}
	}
	if f.Sections != nil {
		// Every allocated section in the way must be one that moves;
		// bytes no section covers are padding.
		for _, s := range f.Sections {
			ss := span{s.Off, s.Off + s.Size}
			if s.Type == SHTNobits || s.Size == 0 || s.Flags&shfAlloc == 0 || !ss.overlaps(grow) {
				continue
			}
			if !within(ss) {
				return false, false, nil
			}
		}
		return true, moveExtra, blocks
	}
	// Without section headers: the bytes in the way must be movable
	// contents or short runs of zero padding between them.
	pos := grow.lo
	for pos < grow.hi {
		advanced := false
		for _, m := range movable {
			if pos >= m.lo && pos < m.hi {
				pos, advanced = m.hi, true
			}
		}
		if advanced {
			continue
		}
		next := grow.hi
		for _, m := range movable {
			if m.lo > pos && m.lo < next {
				next = m.lo
			}
		}
		if next-pos >= 8 || !allZero(in[pos:min(next, uint64(len(in)))]) {
			return false, false, nil
		}
		pos = next
	}
	return true, moveExtra, blocks
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func (p *patch) build() (prefix, tail []byte, err error) {
	f, in := p.f, p.in
	ours := f.ownSegment()
	base := uint64(len(in))
	if ours >= 0 {
		base = f.Progs[ours].Off
	}
	inOurs := func(off uint64) bool { return ours >= 0 && off >= base }

	// Working copies of the program headers (without our old segment) and
	// their raw table slots, which may be larger than the standard entry.
	type progSlot struct {
		p    Prog
		orig int // index in f.Progs, -1 for the new PT_LOAD
		raw  []byte
	}
	var progs []progSlot
	interpAt, dynAt, phdrAt, lastLoad, firstLoad := -1, -1, -1, -1, -1
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
			if firstLoad < 0 {
				firstLoad = len(progs)
			}
			lastLoad = len(progs)
		}
		progs = append(progs, progSlot{pr, i, bytes.Clone(raw)})
	}
	if lastLoad < 0 {
		return nil, nil, errors.New("has no PT_LOAD segment")
	}

	// Room for the new segment up front, so appending it copies nothing:
	// the program headers, the dynamic array, the interpreter, the string
	// table and the tables that may move.
	room := 64 + uint64(len(f.Progs)+1)*uint64(f.phentsize) + uint64(f.dynCap+2)*f.dynEntSize() +
		p.wantSlot + 2*uint64(len(f.strtab)) + uint64(len(p.wantPath)) + uint64(len(p.opts.Audit)) + 2
	for _, b := range f.moveBlocks(func(off uint64) bool { return true }) {
		room += b.hi - b.lo + 8
	}
	// The pad that keeps the new segment's offset congruent to its
	// address is at most a page.
	out := p.alloc(base, room+f.pageSize())
	es := f.dynEntSize()
	p.markFixed(base)

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
	if p.auditChange {
		// Appended (or an identical string reused), never written over an
		// old one: the search path above may have taken one.
		dynChanged = true
		var off uint64
		if p.opts.Audit != "" {
			off, dynstr = placeString(dynstr, p.opts.Audit, nil, nil, false)
		}
		kept := newDyn[:0]
		placed := p.opts.Audit == ""
		for _, d := range newDyn {
			if d.Tag == DTAudit {
				if placed {
					continue
				}
				d = Dyn{Tag: DTAudit, Val: off}
				placed = true
			}
			kept = append(kept, d)
		}
		newDyn = kept
		if !placed {
			newDyn = append(newDyn, Dyn{Tag: DTAudit, Val: off})
		}
	}
	relocStr := strInOurs || len(dynstr) != len(f.strtab)
	// A table that is not ours changes size in place when it shrank or
	// when what follows it (version tables, ...) can move out of the way:
	// no copy of a large .dynstr. Only with section headers, which say
	// what follows.
	var strBlocks []span
	if relocStr && !strInOurs && f.Sections != nil {
		ok := len(dynstr) <= len(f.strtab)
		if !ok {
			grow := span{f.strOff + uint64(len(f.strtab)), f.strOff + uint64(len(dynstr))}
			ok, _, strBlocks = f.makeRoom(in, grow, base, f.strOff, nil)
		}
		if ok {
			relocStr = false
			p.mark(f.strOff, f.strOff+uint64(len(dynstr)))
			copy(out[f.strOff:], dynstr)
			if len(dynstr) < len(f.strtab) {
				clear(out[f.strOff+uint64(len(dynstr)) : f.strOff+uint64(len(f.strtab))])
			}
			for i := range newDyn {
				if newDyn[i].Tag == DTStrsz {
					newDyn[i].Val = uint64(len(dynstr))
				}
			}
			for i, s := range f.Sections {
				if s.Type == SHTStrtab && s.Off == f.strOff && s.Addr != 0 {
					f.setSection(out, i, s.Addr, s.Off, uint64(len(dynstr)))
					break
				}
			}
			dynChanged = true
		}
	}
	if relocStr {
		dynChanged = true
	}
	relocDyn := dynAt >= 0 && (inOurs(progs[dynAt].p.Off) || (dynChanged && len(newDyn)+1 > f.dynCap))

	// The interpreter.
	relocInterp := false
	if interpAt >= 0 {
		ip := progs[interpAt].p
		if p.interpChange || inOurs(ip.Off) {
			relocInterp = inOurs(ip.Off) || f.interpBad || p.wantSlot > ip.Filesz
		}
	}

	needSeg := ours >= 0 || relocStr || relocDyn || relocInterp || len(strBlocks) > 0
	if !needSeg {
		var ip Prog
		if interpAt >= 0 {
			ip = progs[interpAt].p
			if p.interpChange {
				progs[interpAt].p.Filesz, progs[interpAt].p.Memsz = p.wantSlot, p.wantSlot
			}
		}
		p.writeInPlace(out, ip, interpAt >= 0, newDyn, dynChanged, dynstr)
		for i, ps := range progs {
			slot := out[f.phoff+uint64(i)*uint64(f.phentsize):][:f.phentsize]
			copy(slot, ps.raw)
			f.encodeProg(slot, ps.p)
		}
		return out, nil, nil
	}

	// Where the program header table goes: grown in place when the
	// interpreter and notes after it can make room, else at the start of
	// the new segment.
	nph := len(progs) + 1
	if nph >= 0xffff {
		return nil, nil, errors.New("has too many program headers to add one")
	}
	tableSize := uint64(nph) * uint64(f.phentsize)
	var interpProg *Prog
	if interpAt >= 0 {
		interpProg = &progs[interpAt].p
	}
	tableInPlace, moveInterp, moveBlocks := f.roomForPhdr(in, tableSize, base, interpProg)
	if moveInterp {
		relocInterp = true
	}
	// Blocks in the way of the string table, and those already in our old
	// segment, move too.
	for _, b := range append(strBlocks, f.moveBlocks(inOurs)...) {
		dup := false
		for _, m := range moveBlocks {
			dup = dup || m == b
		}
		if !dup {
			moveBlocks = append(moveBlocks, b)
		}
	}

	// Lay out the new segment.
	var size uint64
	if !tableInPlace {
		size = tableSize
	}
	var dynOffIn, interpOffIn, strOffIn uint64
	if relocDyn {
		size = alignUp(size, 8)
		dynOffIn = size
		size += uint64(len(newDyn)+1) * es
	}
	blockOffIn := make([]uint64, len(moveBlocks))
	for i, b := range moveBlocks {
		size = alignUp(size, 8) + b.lo%8 // keep each note's alignment
		blockOffIn[i] = size
		size += b.hi - b.lo
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
	top := alignUp(end, page)
	segOff := alignUp(base, 8)
	var segVaddr uint64
	if tableInPlace {
		segVaddr = top + segOff%page
	} else {
		// The table moves into the new segment. Kernels before 5.18 and
		// qemu-user compute AT_PHDR as e_phoff plus the first PT_LOAD's
		// address-minus-offset, so the new segment keeps that same
		// difference, even if the file needs zero padding for it.
		delta := progs[firstLoad].p.Vaddr - progs[firstLoad].p.Off
		if top-delta > segOff && top >= delta {
			segOff = top - delta
		}
		segVaddr = segOff + delta
	}
	if segVaddr < end || (f.Class == Class32 && segVaddr+size > 1<<32) || segVaddr+size < segVaddr {
		return nil, nil, errors.New("has no address space left above its segments for a new one")
	}
	if pad := segOff - base; pad > 64<<20+base {
		return nil, nil, fmt.Errorf("would need %d bytes of padding to keep its program headers where old kernels look for them (no room to grow the table in place)", pad)
	}
	seg := make([]byte, size)
	flags := PFR
	if relocDyn {
		flags |= PFW
	}
	load := Prog{Type: PTLoad, Flags: flags, Off: segOff, Vaddr: segVaddr, Paddr: segVaddr, Filesz: size, Memsz: size, Align: page}
	progs = append(progs[:lastLoad+1], append([]progSlot{{load, -1, make([]byte, f.phentsize)}}, progs[lastLoad+1:]...)...)
	for _, at := range []*int{&interpAt, &dynAt, &phdrAt} {
		if *at > lastLoad {
			*at++
		}
	}
	if interpAt >= 0 {
		interpProg = &progs[interpAt].p
	}
	if phdrAt >= 0 {
		ph := &progs[phdrAt].p
		if !tableInPlace {
			ph.Off, ph.Vaddr, ph.Paddr = segOff, segVaddr, segVaddr
		}
		ph.Filesz, ph.Memsz = tableSize, tableSize
	}

	// Sections that follow what moves; matched against the original
	// program headers.
	secInterp, secDynstr, secDyn := -1, -1, -1
	for i, s := range f.Sections {
		switch {
		case f.interpIdx >= 0 && s.Type != SHTNobits && s.Off == f.Progs[f.interpIdx].Off && s.Size > 0 && secInterp < 0:
			secInterp = i
		case f.strtab != nil && s.Type == SHTStrtab && s.Off == f.strOff && s.Addr != 0 && secDynstr < 0:
			secDynstr = i
		case f.dynIdx >= 0 && s.Type == SHTDynamic && s.Off == f.Progs[f.dynIdx].Off && secDyn < 0:
			secDyn = i
		}
	}

	// Move blocks: copy the bytes, then shift every note header, section
	// and dynamic entry that points inside each block.
	for i, b := range moveBlocks {
		copy(seg[blockOffIn[i]:], in[b.lo:b.hi])
		newOff := segOff + blockOffIn[i]
		newVaddr := segVaddr + blockOffIn[i]
		oldVaddr, ok := f.offToVaddr(b.lo)
		if !ok {
			return nil, nil, errors.New("internal error: a block to move is outside every PT_LOAD")
		}
		for j := range progs {
			pr := &progs[j].p
			if progs[j].orig >= 0 && f.movableNote(pr.Type) && pr.Off >= b.lo && pr.Off+pr.Filesz <= b.hi {
				pr.Off = newOff + (pr.Off - b.lo)
				pr.Vaddr = newVaddr + (pr.Vaddr - oldVaddr)
				pr.Paddr = pr.Vaddr
			}
		}
		for j, s := range f.Sections {
			if s.Type != SHTNobits && s.Size > 0 && s.Off >= b.lo && s.Off+s.Size <= b.hi && j != secInterp {
				f.setSection(out, j, newVaddr+(s.Addr-oldVaddr), newOff+(s.Off-b.lo), s.Size)
			}
		}
		for j, d := range newDyn {
			if movableTag(d.Tag) && d.Val >= oldVaddr && d.Val-oldVaddr < b.hi-b.lo {
				newDyn[j].Val = newVaddr + (d.Val - oldVaddr)
				dynChanged = true
			}
		}
	}

	// The string table.
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

	// The dynamic array.
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
		f.writeDyn(dst, newDyn, progs[dynAt].p.Vaddr)
	}

	// The interpreter.
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

	// The program header table and the ELF header.
	var table []byte
	phoff := f.phoff
	if tableInPlace {
		table = out[f.phoff : f.phoff+tableSize]
	} else {
		table = seg[:tableSize]
		phoff = segOff
	}
	if f.Class == Class64 {
		f.bo.PutUint64(out[32:], phoff)
		f.bo.PutUint16(out[56:], uint16(len(progs)))
	} else {
		f.bo.PutUint32(out[28:], uint32(phoff))
		f.bo.PutUint16(out[44:], uint16(len(progs)))
	}
	for i, ps := range progs {
		slot := table[uint64(i)*uint64(f.phentsize):][:f.phentsize]
		copy(slot, ps.raw)
		f.encodeProg(slot, ps.p)
	}

	tail = make([]byte, segOff-base, segOff-base+uint64(len(seg)))
	return out, append(tail, seg...), nil
}

// writeInPlace applies changes that fit where the old values were.
func (p *patch) writeInPlace(out []byte, ip Prog, hasInterp bool, newDyn []Dyn, dynChanged bool, dynstr []byte) {
	f := p.f
	if p.pathChange {
		copy(out[f.strOff:], dynstr)
	}
	if dynChanged {
		dp := f.Progs[f.dynIdx]
		f.writeDyn(out[dp.Off:dp.Off+uint64(f.dynCap)*f.dynEntSize()], newDyn, dp.Vaddr)
	}
	if hasInterp && p.interpChange {
		dst := out[ip.Off : ip.Off+ip.Filesz]
		clear(dst)
		copy(dst, p.wantInterp)
		for i, s := range f.Sections {
			if s.Type != SHTNobits && s.Off == ip.Off && s.Size > 0 {
				f.setSection(out, i, s.Addr, s.Off, p.wantSlot)
				break
			}
		}
	}
}

// writeDyn encodes the dynamic entries into dst (the whole array, padded
// with DT_NULL), which will live at address vaddr.
func (f *File) writeDyn(dst []byte, dyn []Dyn, vaddr uint64) {
	es := f.dynEntSize()
	// DT_MIPS_RLD_MAP_REL is relative to its own entry's address.
	if f.Machine == EMMIPS {
		oldAt, newAt := -1, -1
		for i, d := range f.Dynamic {
			if d.Tag == DTMIPSRLDMapRel {
				oldAt = i
			}
		}
		for i, d := range dyn {
			if d.Tag == DTMIPSRLDMapRel {
				newAt = i
			}
		}
		if oldAt >= 0 && newAt >= 0 {
			from := f.Progs[f.dynIdx].Vaddr + uint64(oldAt)*es
			to := vaddr + uint64(newAt)*es
			v := f.Dynamic[oldAt].Val + from - to
			if f.Class == Class32 {
				v &= 0xffffffff
			}
			dyn[newAt].Val = v
		}
	}
	clear(dst)
	for i, d := range dyn {
		f.encodeDyn(dst[uint64(i)*es:], d)
	}
}
