package elf

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
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
	// SetAudit writes Audit as the DT_AUDIT entry (the rtld-audit modules
	// ld.so loads before anything else; $ORIGIN is expanded), replacing
	// one that is there. An empty Audit removes it.
	SetAudit bool
	Audit    string
	// KeepOrigin keeps the entries of the current DT_RPATH and DT_RUNPATH
	// that start with $ORIGIN (or ${ORIGIN}), ahead of the new path, each
	// once. They lead to libraries that travel with the program, such as
	// the shared libraries of a Bazel build under _solib_<cpu>/.
	KeepOrigin bool
}

// withOrigins is want with the $ORIGIN-relative entries of the current
// search paths put first (see PatchOptions.KeepOrigin).
func withOrigins(rpath, runpath, want string) string {
	seen := map[string]bool{}
	for _, e := range strings.Split(want, ":") {
		seen[e] = true
	}
	var out []string
	for _, list := range []string{rpath, runpath} {
		for _, e := range strings.Split(list, ":") {
			if (strings.HasPrefix(e, "$ORIGIN") || strings.HasPrefix(e, "${ORIGIN}")) && !seen[e] {
				out = append(out, e)
				seen[e] = true
			}
		}
	}
	if want != "" {
		out = append(out, want)
	}
	return strings.Join(out, ":")
}

func (o PatchOptions) validate() error {
	if o.SetRPath && o.SetRunPath {
		return errors.New("set either an RPATH or a RUNPATH, not both")
	}
	if o.KeepOrigin && !o.SetRPath && !o.SetRunPath {
		return errors.New("keeping the $ORIGIN entries applies only when a new RPATH or RUNPATH is set")
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
	if strings.IndexByte(o.Audit, 0) >= 0 {
		return errors.New("audit module path contains a NUL byte")
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
// A new string that fits over the old one is written in place (a new
// search path also reuses an existing copy of itself, or an old slot no
// other entry references). Otherwise Patch appends one PT_LOAD segment at
// the end of the file, at an address above every other segment and
// congruent to its offset modulo the machine's largest page size (64 KiB
// on aarch64, arm, ppc64, mips). What did not fit goes there:
//
//   - the interpreter string (its slot sized by InterpSlot);
//   - the dynamic array, when an entry must be added and it has no spare
//     DT_NULL (the segment is then writable: ld.so writes DT_DEBUG);
//   - the tables that followed .dynstr (.gnu.version, ...), so that
//     .dynstr grows in place; without section headers, a copy of .dynstr
//     with the new string appended instead.
//
// The program header table grows in place so that e_phoff stays in the
// first PT_LOAD, where kernels before 5.18 and qemu-user look for it: the
// interpreter, notes, hash, version and symbol tables that follow it move
// into the new segment. When that is impossible the table moves into the
// new segment, which then keeps the first PT_LOAD's address-minus-offset
// (padding the file if needed) so AT_PHDR is still right on those kernels.
// Dynamic entries, PT_PHDR, PT_NOTE/PT_GNU_PROPERTY and the section headers
// follow what moved. A file that already ends in such a segment has it
// rebuilt instead of getting a second, so repeated patching never stacks
// segments (patchelf issue #492).
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
	if !p.interpChange && !p.pathChange && !p.auditChange {
		return bytes.Clone(in), nil
	}
	p.alloc = func(base, extra uint64) []byte {
		out := make([]byte, base, base+extra)
		copy(out, in[:base])
		return out
	}
	prefix, tail, err := p.build()
	if err != nil {
		return nil, err
	}
	out := append(prefix, tail...)
	if err := p.check(bytes.NewReader(out), int64(len(out))); err != nil {
		return nil, err
	}
	if checkDirty {
		if err := p.checkDirty(prefix); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkDirty, set by the package's tests, makes Patch confirm that every
// byte of the prefix it changed lies in a span it marked: PatchFile
// writes only those.
var checkDirty = false

// checkDirty reports a changed byte of prefix outside p.dirty.
func (p *patch) checkDirty(prefix []byte) error {
	spans := p.dirtySpans(uint64(len(prefix)))
	var at uint64
	for _, sp := range append(spans, span{uint64(len(prefix)), uint64(len(prefix))}) {
		if i := firstDiff(p.in[at:sp.lo], prefix[at:sp.lo]); i >= 0 {
			return fmt.Errorf("internal error: byte %#x changed outside the marked spans %v", at+uint64(i), spans)
		}
		at = sp.hi
	}
	return nil
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// mark records that build may change the bytes [lo, hi) of the prefix.
func (p *patch) mark(lo, hi uint64) {
	if hi > lo {
		p.dirty = append(p.dirty, span{lo, hi})
	}
}

// markFixed marks the headers and tables build may rewrite in place: the
// ELF header, the program header table (with room for one more entry),
// the section headers, and the string table, dynamic array and
// interpreter where they are.
func (p *patch) markFixed(base uint64) {
	f := p.f
	p.dirty = p.dirty[:0]
	p.mark(0, 64)
	p.mark(f.phoff, f.phoff+uint64(len(f.Progs)+1)*uint64(f.phentsize))
	p.mark(f.shoff, f.shoff+uint64(len(f.Sections))*uint64(f.shentsize))
	if f.strtab != nil {
		p.mark(f.strOff, f.strOff+uint64(len(f.strtab)))
	}
	if f.dynIdx >= 0 {
		d := f.Progs[f.dynIdx]
		p.mark(d.Off, d.Off+uint64(f.dynCap)*f.dynEntSize())
	}
	if f.interpIdx >= 0 {
		ip := f.Progs[f.interpIdx]
		p.mark(ip.Off, ip.Off+ip.Filesz)
	}
}

// dirtySpans returns the marked spans clipped to [0, size), sorted and
// merged.
func (p *patch) dirtySpans(size uint64) []span {
	var out []span
	for _, sp := range p.dirty {
		sp.hi = min(sp.hi, size)
		if sp.lo < sp.hi {
			out = append(out, sp)
		}
	}
	slices.SortFunc(out, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	merged := out[:0]
	for _, sp := range out {
		if n := len(merged); n > 0 && sp.lo <= merged[n-1].hi {
			merged[n-1].hi = max(merged[n-1].hi, sp.hi)
			continue
		}
		merged = append(merged, sp)
	}
	return merged
}

type patch struct {
	f    *File
	in   []byte
	opts PatchOptions

	// alloc returns the output's first base bytes, a copy of in's, with
	// capacity for extra more; build changes them only in spans it
	// marks in dirty.
	alloc func(base, extra uint64) []byte
	dirty []span

	wantInterp   string
	wantSlot     uint64
	interpChange bool

	wantTag    DynTag // DTRPath, DTRunPath, or DTNull to remove both
	wantPath   string
	pathChange bool

	auditChange bool
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
		p.interpChange = p.wantInterp != f.Interp || p.wantSlot != cur || f.interpBad
	}

	if opts.SetAudit {
		if f.dynIdx < 0 || f.dynCap == 0 {
			return nil, fmt.Errorf("is statically linked (%s, no dynamic section); ld.so loads no audit module for it", f.Linkage)
		}
		if f.dynCount > 1 {
			return nil, fmt.Errorf("has %d PT_DYNAMIC headers; refusing to patch an ambiguous file", f.dynCount)
		}
		if f.strtab == nil {
			return nil, errors.New("has a dynamic section without a string table (DT_STRTAB/DT_STRSZ)")
		}
		n := 0
		for _, d := range f.Dynamic {
			if d.Tag == DTAudit {
				n++
			}
		}
		if opts.Audit == "" {
			p.auditChange = n > 0
		} else {
			p.auditChange = n != 1 || f.Audit != opts.Audit
		}
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
		if opts.KeepOrigin {
			p.wantPath = withOrigins(f.RPath, f.RunPath, p.wantPath)
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

// check re-reads the patched file and confirms it says what was asked.
func (p *patch) check(r io.ReaderAt, size int64) error {
	if err := p.recheck(r, size); err != nil {
		return fmt.Errorf("internal error, the patched file does not read back right (please report): %w", err)
	}
	return nil
}

func (p *patch) recheck(r io.ReaderAt, size int64) error {
	g, err := Parse(r, size)
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
	if p.opts.SetAudit && g.Audit != p.opts.Audit {
		return fmt.Errorf("DT_AUDIT reads %q, want %q", g.Audit, p.opts.Audit)
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
