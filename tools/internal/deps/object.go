package deps

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"regexp"
	"sync"
	"syscall"

	"github.com/rules-portable/rules_portable/tools/internal/elf"
)

// header is the part of an ELF header ld.so's open_verify looks at.
type header struct {
	n         int // bytes read (up to 64)
	ident     [16]byte
	typ       elf.Type
	machine   elf.Machine
	version   uint32
	phentsize uint16
}

// objCache reads each file once, whichever program or name reaches it.
type objCache struct {
	mu     sync.Mutex
	objs   map[fileID]*object
	parsed map[FileID]*elf.File // Options.Parsed
}

// object is one file on disk as the resolver knows it.
type object struct {
	hostPath string
	open     func() (io.ReaderAt, int64, func() error, error)

	hdrOnce sync.Once
	hdr     header
	hdrErr  error // reading failed (EISDIR, EIO, ...)

	parseOnce sync.Once
	file      *elf.File
	parseErr  error

	verOnce sync.Once
	glibc   string // "2.36" from the loader's banner, "" when absent
}

func (c *objCache) get(id fileID, hostPath string, open func() (io.ReaderAt, int64, func() error, error)) *object {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.objs == nil {
		c.objs = map[fileID]*object{}
	}
	o, ok := c.objs[id]
	if !ok {
		o = &object{hostPath: hostPath, open: open}
		if f, ok := c.parsed[FileID{Dev: id.dev, Ino: id.ino}]; ok {
			o.parseOnce.Do(func() { o.file = f })
		}
		c.objs[id] = o
	}
	return o
}

func (o *object) header() (header, error) {
	o.hdrOnce.Do(func() {
		f, size, closeFn, err := o.open()
		if err != nil {
			o.hdrErr = unwrapPathError(err)
			return
		}
		defer closeFn()
		var buf [64]byte
		n, err := io.ReadFull(io.NewSectionReader(f, 0, size), buf[:])
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			o.hdrErr = unwrapPathError(err)
			return
		}
		h := header{n: n}
		copy(h.ident[:], buf[:])
		var bo binary.ByteOrder = binary.LittleEndian
		if h.ident[5] == 2 {
			bo = binary.BigEndian
		}
		if n >= 24 {
			h.typ = elf.Type(bo.Uint16(buf[16:]))
			h.machine = elf.Machine(bo.Uint16(buf[18:]))
			h.version = bo.Uint32(buf[20:])
		}
		switch h.ident[4] {
		case 1:
			if n >= 52 {
				h.phentsize = bo.Uint16(buf[42:])
			}
		case 2:
			if n >= 64 {
				h.phentsize = bo.Uint16(buf[54:])
			}
		}
		o.hdr = h
	})
	return o.hdr, o.hdrErr
}

func (o *object) parse() (*elf.File, error) {
	o.parseOnce.Do(func() {
		f, size, closeFn, err := o.open()
		if err != nil {
			o.parseErr = unwrapPathError(err)
			return
		}
		defer closeFn()
		o.file, o.parseErr = elf.Parse(f, size)
	})
	return o.file, o.parseErr
}

// glibcRelease matches the banner every glibc ld.so and libc.so.6
// carries, e.g. "stable release version 2.36".
var glibcRelease = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`release version (2\.[0-9]+)`) })

// maxLoaderFile bounds how much of a loader is scanned for its banner.
const maxLoaderFile = 64 << 20

// glibcVersion returns the glibc release of a loader or libc file from
// its version banner, or "" when it has none (not glibc).
func (o *object) glibcVersion() string {
	o.verOnce.Do(func() {
		f, size, closeFn, err := o.open()
		if err != nil {
			return
		}
		defer closeFn()
		data, err := io.ReadAll(io.NewSectionReader(f, 0, min(size, maxLoaderFile)))
		if err != nil {
			return
		}
		if m := glibcRelease().FindSubmatch(data); m != nil {
			o.glibc = string(m[1])
		}
	})
	return o.glibc
}

// expectation is the ELF identity the emulated ld.so accepts.
type expectation struct {
	class   elf.Class
	data    elf.Data
	machine elf.Machine
}

// verdict is what ld.so's open_verify decides about a file.
type verdict uint8

const (
	verdictOK         verdict = iota
	verdictOtherClass         // skipped, remembered for the error message
	verdictSkip               // wrong machine: skipped silently
	verdictNoAccess           // cannot be opened (EACCES): skipped
	verdictFatal              // ld.so gives up loading the program
)

// verify emulates glibc 2.36's open_verify: the checks, their order and
// which failures are fatal. A file of the other ELF class or of another
// machine is skipped and the search goes on; anything else that is wrong
// (not ELF, wrong byte order, bad version, unknown OS ABI, too short, a
// directory) stops ld.so with the message returned.
func (o *object) verify(want expectation) (verdict, string) {
	h, err := o.header()
	if err != nil {
		if err == syscall.EACCES || err == syscall.EPERM {
			return verdictNoAccess, ""
		}
		return verdictFatal, "cannot read file data: " + errText(err)
	}
	ehdrSize := 64
	if want.class == elf.Class32 {
		ehdrSize = 52
	}
	if h.n < ehdrSize {
		return verdictFatal, "file too short"
	}
	id := h.ident
	if !bytes.Equal(id[:4], []byte("\x7fELF")) {
		return verdictFatal, "invalid ELF header"
	}
	if elf.Class(id[4]) != want.class {
		return verdictOtherClass, ""
	}
	if elf.Data(id[5]) != want.data {
		if want.data == elf.Data2MSB {
			return verdictFatal, "ELF file data encoding not big-endian"
		}
		return verdictFatal, "ELF file data encoding not little-endian"
	}
	if id[6] != 1 {
		return verdictFatal, "ELF file version ident does not match current one"
	}
	// sysdeps/gnu/ldsodefs.h: SYSV or GNU; the GNU ABI version must be
	// below LIBC_ABI_MAX (4 in glibc 2.36: UNIQUE, IFUNC, ABSOLUTE).
	const osabiSYSV, osabiGNU, libcABIMax = 0, 3, 4
	if id[7] != osabiSYSV && id[7] != osabiGNU {
		return verdictFatal, "ELF file OS ABI invalid"
	}
	if !(id[8] == 0 || id[7] == osabiGNU && id[8] < libcABIMax) {
		return verdictFatal, "ELF file ABI version invalid"
	}
	for _, b := range id[9:] {
		if b != 0 {
			return verdictFatal, "nonzero padding in e_ident"
		}
	}
	if h.version != 1 {
		return verdictFatal, "ELF file version does not match current one"
	}
	if h.machine != want.machine {
		return verdictSkip, ""
	}
	if h.typ != elf.TypeDyn && h.typ != elf.TypeExec {
		return verdictFatal, "only ET_DYN and ET_EXEC can be loaded"
	}
	phent := uint16(56)
	if want.class == elf.Class32 {
		phent = 32
	}
	if h.phentsize != phent {
		return verdictFatal, "ELF file's phentsize not the expected size"
	}
	return verdictOK, ""
}

// mapCheck emulates the refusals of _dl_map_object_from_fd for a
// dependency that passed verify.
func mapCheck(f *elf.File) string {
	if f.Type != elf.TypeDyn {
		return "cannot dynamically load executable"
	}
	hasDynamic := false
	for _, p := range f.Progs {
		if p.Type == elf.PTDynamic {
			hasDynamic = true
		}
	}
	if !hasDynamic || len(f.Dynamic) == 0 {
		return "object file has no dynamic section"
	}
	if f.Flags1&elf.DF1PIE != 0 {
		return "cannot dynamically load position-independent executable"
	}
	return ""
}

func errText(err error) string {
	if en, ok := err.(syscall.Errno); ok {
		s := en.Error()
		if s != "" && s[0] >= 'a' && s[0] <= 'z' {
			return string(s[0]-'a'+'A') + s[1:]
		}
		return s
	}
	return fmt.Sprint(err)
}
