package deps

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Cache is a parsed ld.so.cache file as written by glibc's ldconfig: the
// "glibc-ld.so.cache1.1" format, alone or embedded after an old
// "ld.so-1.7.0" table, or the old format alone.
type Cache struct {
	Entries []CacheEntry
	// HWCaps are the glibc-hwcaps subdirectory names of the cache's
	// extension section; a named-hwcaps entry's HWCapIndex points here.
	HWCaps []string
	// Generator is the "generator" extension, e.g. "ldconfig (GNU libc)
	// release version 2.36", when present.
	Generator string

	byKey map[string][]int // key -> entry indices, in file order
}

// CacheEntry is one library of the cache.
type CacheEntry struct {
	Flags int32  // FLAG_ELF_LIBC6 | the architecture flag, e.g. 0x303 for x86_64
	Key   string // the soname ld.so looks up
	Value string // the path it maps to
	HWCap uint64 // 0, legacy AT_HWCAP bits, or a glibc-hwcaps reference (bit 62)
	// NewFormat is true for entries of the new table (which have HWCap).
	NewFormat bool
}

const (
	cacheMagicOld     = "ld.so-1.7.0"
	cacheMagicNew     = "glibc-ld.so.cache1.1"
	cacheHeaderNew    = 48 // sizeof(struct cache_file_new)
	cacheEntryNew     = 24 // sizeof(struct file_entry_new)
	cacheHeaderOld    = 16 // magic[11] + pad + nlibs
	cacheEntryOld     = 12 // sizeof(struct file_entry)
	cacheExtMagic     = 0xeaa42174
	hwcapExtension    = uint64(1) << 62
	isaLevelMask      = (1 << 10) - 1
	maxCacheFile      = 64 << 20
	cacheExtGenerator = 0
	cacheExtHWCaps    = 1
)

// ParseCache parses the bytes of an ld.so.cache file. Every count and
// offset is checked against the file's size before use, so a corrupt
// file gives an error, never a panic or a large allocation. Only
// little-endian caches (what x86_64, aarch64, riscv64, ppc64le and arm
// ldconfig write) are read; a big-endian one is reported as such.
func ParseCache(data []byte) (*Cache, error) {
	c := &Cache{byKey: map[string][]int{}}
	le := binary.LittleEndian
	switch {
	case bytes.HasPrefix(data, []byte(cacheMagicNew)):
		if err := c.parseNew(data, 0); err != nil {
			return nil, err
		}
	case bytes.HasPrefix(data, []byte(cacheMagicOld)):
		if len(data) < cacheHeaderOld {
			return nil, fmt.Errorf("ld.so.cache: old-format header truncated")
		}
		n := uint64(le.Uint32(data[12:16]))
		if n > uint64(len(data)-cacheHeaderOld)/cacheEntryOld {
			return nil, fmt.Errorf("ld.so.cache: old-format table claims %d entries, more than the file holds", n)
		}
		end := uint64(cacheHeaderOld) + n*cacheEntryOld
		newOff := (end + 7) &^ 7 // ALIGN_CACHE: alignment of struct cache_file_new
		if newOff+cacheHeaderNew <= uint64(len(data)) && bytes.HasPrefix(data[newOff:], []byte(cacheMagicNew)) {
			// The old table is only for old readers; ld.so uses the new one.
			if err := c.parseNew(data, int(newOff)); err != nil {
				return nil, err
			}
			break
		}
		strtab := data[end:]
		for i := uint64(0); i < n; i++ {
			b := data[cacheHeaderOld+i*cacheEntryOld:]
			e := CacheEntry{Flags: int32(le.Uint32(b[0:4]))}
			var err error
			if e.Key, err = cacheString(strtab, le.Uint32(b[4:8])); err != nil {
				return nil, fmt.Errorf("ld.so.cache: old entry %d key: %w", i, err)
			}
			if e.Value, err = cacheString(strtab, le.Uint32(b[8:12])); err != nil {
				return nil, fmt.Errorf("ld.so.cache: old entry %d value: %w", i, err)
			}
			c.add(e)
		}
	default:
		return nil, fmt.Errorf("ld.so.cache: unknown format (no %q or %q magic)", cacheMagicNew, cacheMagicOld)
	}
	return c, nil
}

// parseNew reads the new-format table whose header starts at off. As in
// glibc 2.36's dl-cache.c, entry strings are relative to that header,
// while the extension directory and the glibc-hwcaps name indices are
// taken relative to the start of the file. The two differ only in the
// compat format, where ldconfig writes the name indices relative to the
// header: ld.so then reads other bytes as the names, none matches, and it
// never uses a glibc-hwcaps entry of such a cache. HWCaps keeps what
// ld.so reads, so Lookup behaves the same.
func (c *Cache) parseNew(data []byte, off int) error {
	le := binary.LittleEndian
	file := data[off:]
	if len(file) < cacheHeaderNew {
		return fmt.Errorf("ld.so.cache: header truncated")
	}
	flags := file[28]
	switch flags & 3 {
	case 0, 2: // unset (old ldconfig) or little-endian
	case 1:
		return fmt.Errorf("ld.so.cache: header marks the cache invalid; regenerate it with ldconfig")
	case 3:
		// A real big-endian cache (made on another machine) or, far more
		// likely on this one, a corrupt header: ld.so ignores both.
		return fmt.Errorf("ld.so.cache: header flags %#02x mark a big-endian cache, which a little-endian ld.so ignores; if this machine made it, the file is corrupt: regenerate it with ldconfig, or pass --ld-cache conf", flags)
	}
	n := uint64(le.Uint32(file[20:24]))
	if n > uint64(len(file)-cacheHeaderNew)/cacheEntryNew {
		return fmt.Errorf("ld.so.cache: table claims %d entries, more than the file holds", n)
	}
	for i := uint64(0); i < n; i++ {
		b := file[cacheHeaderNew+i*cacheEntryNew:]
		e := CacheEntry{Flags: int32(le.Uint32(b[0:4])), HWCap: le.Uint64(b[16:24]), NewFormat: true}
		var err error
		if e.Key, err = cacheString(file, le.Uint32(b[4:8])); err != nil {
			return fmt.Errorf("ld.so.cache: entry %d key: %w", i, err)
		}
		if e.Value, err = cacheString(file, le.Uint32(b[8:12])); err != nil {
			return fmt.Errorf("ld.so.cache: entry %d value: %w", i, err)
		}
		c.add(e)
	}
	extOff := uint64(le.Uint32(file[32:36]))
	if extOff == 0 {
		return nil
	}
	file = data
	if extOff%4 != 0 || extOff+8 > uint64(len(file)) {
		return fmt.Errorf("ld.so.cache: extension directory at %#x is misaligned or past the end", extOff)
	}
	if le.Uint32(file[extOff:]) != cacheExtMagic {
		return fmt.Errorf("ld.so.cache: extension directory at %#x has a bad magic number", extOff)
	}
	count := uint64(le.Uint32(file[extOff+4:]))
	if count > (uint64(len(file))-extOff-8)/16 {
		return fmt.Errorf("ld.so.cache: extension directory claims %d sections, more than the file holds", count)
	}
	for i := uint64(0); i < count; i++ {
		s := file[extOff+8+16*i:]
		tag, soff, ssize := le.Uint32(s[0:4]), uint64(le.Uint32(s[8:12])), uint64(le.Uint32(s[12:16]))
		if soff+ssize > uint64(len(file)) {
			return fmt.Errorf("ld.so.cache: extension section %d runs past the end of the file", i)
		}
		sec := file[soff : soff+ssize]
		switch tag {
		case cacheExtGenerator:
			c.Generator = string(sec)
		case cacheExtHWCaps:
			// ld.so ignores a section that is empty, misaligned or not a
			// multiple of 4 bytes; so do we.
			if ssize == 0 || soff%4 != 0 || ssize%4 != 0 {
				continue
			}
			for j := uint64(0); j < ssize; j += 4 {
				// An index ld.so cannot read gives that subdirectory
				// priority 0 (never used), not a failed cache; keep it
				// as the unusable name "".
				name, err := cacheString(file, le.Uint32(sec[j:]))
				if err != nil {
					name = ""
				}
				c.HWCaps = append(c.HWCaps, name)
			}
		}
	}
	return nil
}

func (c *Cache) add(e CacheEntry) {
	c.byKey[e.Key] = append(c.byKey[e.Key], len(c.Entries))
	c.Entries = append(c.Entries, e)
}

// cacheString returns the NUL-terminated string at off in tab.
func cacheString(tab []byte, off uint32) (string, error) {
	if uint64(off) >= uint64(len(tab)) {
		return "", fmt.Errorf("string offset %#x is past the end of the file", off)
	}
	s := tab[off:]
	i := bytes.IndexByte(s, 0)
	if i < 0 {
		return "", fmt.Errorf("string at %#x is not terminated", off)
	}
	return string(s[:i]), nil
}

// named reports whether e refers to a glibc-hwcaps subdirectory, and the
// index of its name and the x86 ISA level it needs.
func (e CacheEntry) named() (index uint32, isaLevel uint32, ok bool) {
	if !e.NewFormat || (e.HWCap>>32)&^isaLevelMask != hwcapExtension>>32 {
		return 0, 0, false
	}
	return uint32(e.HWCap), uint32(e.HWCap>>32) & isaLevelMask, true
}

// CacheQuery describes the ld.so doing a cache lookup.
type CacheQuery struct {
	// Flags are the entry flags this ld.so accepts; Flags[0] is its
	// default (an exact match ends the search).
	Flags []int32
	// HWCaps are the glibc-hwcaps subdirectories in priority order.
	HWCaps []string
	// X86ISALevels, when non-zero, are the GNU_PROPERTY_X86_ISA_1 bits the
	// CPU supports; named entries needing another level are skipped.
	X86ISALevels uint32
	// Legacy accepts entries with legacy AT_HWCAP bits, as glibc before
	// 2.37 did for libraries in tls/ or platform subdirectories.
	Legacy bool
}

// Lookup returns the path the cache maps name to, choosing among the
// entries for name as glibc's search_cache does: glibc-hwcaps entries
// (listed first by ldconfig) win by subdirectory priority, otherwise the
// first plain entry with acceptable flags; an entry whose flags equal the
// default ends the search.
func (c *Cache) Lookup(name string, q CacheQuery) (string, bool) {
	accept := func(f int32) bool {
		for _, a := range q.Flags {
			if f == a {
				return true
			}
		}
		return false
	}
	prio := func(idx uint32) int {
		if int(idx) >= len(c.HWCaps) || c.HWCaps[idx] == "" {
			return 0
		}
		for i, h := range q.HWCaps {
			if h == c.HWCaps[idx] {
				return i + 1
			}
		}
		return 0
	}
	best, bestPrio, found := "", 0, false
	for _, i := range c.byKey[name] {
		e := c.Entries[i]
		if !accept(e.Flags) {
			continue
		}
		idx, level, named := e.named()
		if named {
			if q.X86ISALevels != 0 {
				bit := uint32(1) << level
				if level >= 32 || q.X86ISALevels&bit != bit {
					continue
				}
			}
		} else {
			if found {
				break
			}
			if e.HWCap != 0 && !q.Legacy {
				continue
			}
		}
		if named {
			p := prio(idx)
			if p == 0 || found && p >= bestPrio {
				continue
			}
			bestPrio = p
		}
		best, found = e.Value, true
		if !named && len(q.Flags) > 0 && e.Flags == q.Flags[0] {
			break
		}
	}
	return best, found
}
