// Package locale writes a glibc locale archive (locale-archive) from
// compiled locale directories, so a bundle can carry the locales its user
// names: a closed libc reads only the archive (package glibcdata anchors it
// at /proc/self/fd/1022), never the host's.
//
// The format is glibc's (locale/locarchive.h): a header of fourteen 32-bit
// words, an open-addressing hash table of names, the names, one record
// per locale giving the offset and length of each category's data, and
// the data, each category page-aligned so glibc can map it directly. All
// integers are in the byte order of the machine that reads the archive.
package locale

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Magic is AR_MAGIC, the archive's first word.
const Magic = 0xde020109

// Categories in glibc's order (LC_CTYPE = 0 ... LC_IDENTIFICATION = 12);
// LC_ALL (6) has no data of its own.
var Categories = [...]string{
	"LC_CTYPE", "LC_NUMERIC", "LC_TIME", "LC_COLLATE", "LC_MONETARY", "LC_MESSAGES",
	"LC_ALL", "LC_PAPER", "LC_NAME", "LC_ADDRESS", "LC_TELEPHONE", "LC_MEASUREMENT", "LC_IDENTIFICATION",
}

const lcAll = 6

// Locale is one compiled locale: its name and each category's data.
type Locale struct {
	Name string
	Data [len(Categories)][]byte
}

// MaxCategorySize bounds one category file read from a directory.
const MaxCategorySize = 64 << 20

// ReadDir reads a compiled locale directory (like /usr/lib/locale/C.utf8:
// LC_CTYPE, ..., LC_MESSAGES/SYS_LC_MESSAGES) as the locale name.
func ReadDir(dir, name string) (*Locale, error) {
	l := &Locale{Name: Normalize(name)}
	for i, c := range Categories {
		if i == lcAll {
			continue
		}
		p := filepath.Join(dir, c)
		if c == "LC_MESSAGES" {
			p = filepath.Join(p, "SYS_LC_MESSAGES")
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("locale %s: %w; a compiled locale directory has every LC_* file", name, err)
		}
		if !st.Mode().IsRegular() || st.Size() > MaxCategorySize || st.Size() < 8 {
			return nil, fmt.Errorf("locale %s: %s: not a compiled locale category (a regular file of 8 bytes to %d MiB)", name, p, MaxCategorySize>>20)
		}
		if l.Data[i], err = os.ReadFile(p); err != nil {
			return nil, fmt.Errorf("locale %s: %w", name, err)
		}
	}
	return l, nil
}

// Normalize writes a locale name the way glibc looks it up in an archive:
// the codeset after '.' lower-cased with everything but letters and digits
// dropped, "iso" put before an all-digit one (C.UTF-8 -> C.utf8,
// de_DE.ISO-8859-1@euro -> de_DE.iso88591@euro).
func Normalize(name string) string {
	dot := strings.IndexByte(name, '.')
	if dot < 0 {
		return name
	}
	cs, mod := name[dot+1:], ""
	if at := strings.IndexByte(cs, '@'); at >= 0 {
		cs, mod = cs[:at], cs[at:]
	}
	var b strings.Builder
	digits := true
	for _, r := range cs {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			digits = false
			b.WriteRune(r | 0x20)
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	n := b.String()
	if n == "" {
		return name
	}
	if digits {
		n = "iso" + n
	}
	return name[:dot+1] + n + mod
}

// hash is glibc's compute_hashval with 32-bit words (locale/hashval.h as
// loadarchive.c includes it).
func hash(s string) uint32 {
	h := uint32(len(s))
	for i := 0; i < len(s); i++ {
		h = h<<9 | h>>23
		h += uint32(int32(int8(s[i]))) // glibc adds a (signed) char
	}
	if h == 0 {
		return ^uint32(0)
	}
	return h
}

const (
	headerSize  = 14 * 4
	nameEntSize = 3 * 4
	recSize     = 4 + len(Categories)*8
	pageSize    = 4096 // the largest page of the machines we bundle for is 64 KiB, but glibc maps ranges itself
)

// Write returns an archive holding the locales, in byte order bo.
// Names must be distinct after Normalize.
func Write(locales []*Locale, bo binary.ByteOrder) ([]byte, error) {
	if len(locales) == 0 {
		return nil, errors.New("locale archive: no locales")
	}
	ls := slices.Clone(locales)
	slices.SortFunc(ls, func(a, b *Locale) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(ls); i++ {
		if ls[i].Name == ls[i-1].Name {
			return nil, fmt.Errorf("locale archive: %s twice", ls[i].Name)
		}
	}
	size := uint32(nextPrime(2*len(ls) + 3))
	var strs []byte
	strs = append(strs, 0) // offset 0 means "empty slot", so no name starts there
	nameOff := make([]uint32, len(ls))
	namehashOff := uint32(headerSize)
	stringOff := namehashOff + size*nameEntSize
	for i, l := range ls {
		if l.Name == "" || strings.ContainsRune(l.Name, 0) {
			return nil, fmt.Errorf("locale archive: bad name %q", l.Name)
		}
		nameOff[i] = stringOff + uint32(len(strs))
		strs = append(append(strs, l.Name...), 0)
	}
	locrecOff := align(stringOff+uint32(len(strs)), 4)
	dataOff := align(locrecOff+uint32(len(ls)*recSize), pageSize)
	out := make([]byte, dataOff)
	put := func(off uint32, v uint32) { bo.PutUint32(out[off:], v) }
	for i, v := range []uint32{Magic, 0, namehashOff, uint32(len(ls)), size, stringOff, uint32(len(strs)), uint32(len(strs)),
		locrecOff, uint32(len(ls)), uint32(len(ls)), dataOff, 0, 0} {
		put(uint32(i*4), v)
	}
	copy(out[stringOff:], strs)
	for i, l := range ls {
		h := hash(l.Name)
		idx := h % size
		incr := 1 + h%(size-2)
		for bo.Uint32(out[namehashOff+idx*nameEntSize+4:]) != 0 {
			idx = (idx + incr) % size
		}
		e := namehashOff + idx*nameEntSize
		rec := locrecOff + uint32(i*recSize)
		put(e, h)
		put(e+4, nameOff[i])
		put(e+8, rec)
		put(rec, 1) // refs
		for c, data := range l.Data {
			if c == lcAll {
				continue
			}
			if len(data) == 0 {
				return nil, fmt.Errorf("locale archive: %s has no %s", l.Name, Categories[c])
			}
			off := uint32(len(out))
			out = append(out, data...)
			out = append(out, make([]byte, int(align(uint32(len(out)), pageSize))-len(out))...)
			put(rec+4+uint32(c*8), off)
			put(rec+8+uint32(c*8), uint32(len(data)))
		}
	}
	return out, nil
}

func align(v, a uint32) uint32 { return (v + a - 1) &^ (a - 1) }

func nextPrime(n int) int {
	for ; ; n++ {
		prime := n > 2
		for d := 2; d*d <= n && prime; d++ {
			prime = n%d != 0
		}
		if prime {
			return n
		}
	}
}

// Names lists the locale names an archive holds (checking its tables
// against its size), in table order.
func Names(archive []byte, bo binary.ByteOrder) ([]string, error) {
	if len(archive) < headerSize || bo.Uint32(archive) != Magic {
		return nil, errors.New("not a glibc locale archive (no magic)")
	}
	w := func(i int) uint32 { return bo.Uint32(archive[i*4:]) }
	hashOff, size := uint64(w(2)), uint64(w(4))
	if hashOff+size*nameEntSize > uint64(len(archive)) {
		return nil, errors.New("locale archive: name table past the end")
	}
	var names []string
	for i := uint64(0); i < size; i++ {
		off := uint64(bo.Uint32(archive[hashOff+i*nameEntSize+4:]))
		if off == 0 {
			continue
		}
		if off >= uint64(len(archive)) {
			return nil, errors.New("locale archive: name past the end")
		}
		end := slices.Index(archive[off:], 0)
		if end < 0 {
			return nil, errors.New("locale archive: unterminated name")
		}
		names = append(names, string(archive[off:off+uint64(end)]))
	}
	return names, nil
}
