package ldso

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/rules-portable/rules_portable/tools/internal/elf"
)

// NoDir is what every default directory becomes: a directory in /proc's
// root, where no name starts with a dot and none can be created, so every
// lookup in it fails with ENOENT and the loader marks it nonexistent at
// once. glibc asserts that a default directory starts with a slash (an
// empty string will not do), and its code has the length of the first
// directory and the offset of the second built in, so the first keeps its
// length (NUL-padded) and the others follow it at their usual offsets
// with their lengths (glibc's system_dirs_len) set to NoDir's.
const NoDir = "/proc/.none/"

// Cache and Preload are the host files every glibc loader reads.
const (
	Cache   = "/etc/ld.so.cache"
	Preload = "/etc/ld.so.preload"
)

// Closed is what Close did to a loader, for messages and tests.
type Closed struct {
	// Dirs are the default directories that were neutralised, in the
	// order the loader holds them (one entry per copy it holds).
	Dirs []string
	// Already is set when the loader was closed before (it is returned
	// unchanged).
	Already bool
}

// ErrNotLoader is wrapped by every error Close returns for a file that
// does not look like a glibc loader it can close.
var ErrNotLoader = errors.New("not a glibc loader that can be closed")

// libDir is one default directory: /lib/, /lib64/, /usr/lib/,
// /usr/lib/x86_64-linux-gnu/, /usr/lib64/, /lib32/ and the like.
var libDir = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(/usr)?/lib[a-z0-9]*/([A-Za-z0-9_.+-]+/)?$`) })

// Close returns a copy of data, the bytes of a glibc loader, with the
// host's library cache, preload list and default directories neutralised
// (see the package doc). A loader that is already closed comes back
// unchanged with Already set. It fails, wrapping ErrNotLoader, when data
// is not an ELF shared object or any of the three is not found exactly
// where it is expected: in a read-only loadable segment.
func Close(data []byte) ([]byte, Closed, error) {
	return close(data, false)
}

// ClosePreload neutralises only /etc/ld.so.preload and keeps the cache
// and the default directories: the loader of a bundle whose audit module
// admits named host libraries (portable bundle --host-lib), which must
// still be able to find them.
func ClosePreload(data []byte) ([]byte, error) {
	out, _, err := close(data, true)
	return out, err
}

func close(data []byte, preloadOnly bool) ([]byte, Closed, error) {
	ro, wordSize, order, err := readOnlyRanges(data)
	if err != nil {
		return nil, Closed{}, err
	}
	out := bytes.Clone(data)
	var c Closed
	cache := findString(out, Cache)
	preload := findString(out, Preload)
	if len(cache) == 0 && len(preload) == 0 && isClosed(out) {
		return out, Closed{Already: true}, nil
	}
	if preloadOnly {
		if len(preload) != 1 || !ro.contains(preload[0], len(Preload)) {
			return nil, Closed{}, fmt.Errorf("%w: %q occurs %d times in read-only bytes, want once", ErrNotLoader, Preload, len(preload))
		}
		out[preload[0]] = 0
		return out, Closed{}, nil
	}
	for _, s := range []struct {
		name string
		at   []int
	}{{Cache, cache}, {Preload, preload}} {
		if len(s.at) != 1 {
			return nil, Closed{}, fmt.Errorf("%w: %q occurs %d times, want once", ErrNotLoader, s.name, len(s.at))
		}
		if !ro.contains(s.at[0], len(s.name)) {
			return nil, Closed{}, fmt.Errorf("%w: %q is not in a read-only segment", ErrNotLoader, s.name)
		}
		out[s.at[0]] = 0
	}
	blocks := dirBlocks(out)
	searched := false
	for _, blk := range blocks {
		if !ro.contains(blk.off, blk.len) {
			continue
		}
		first := len(blk.dirs[0])
		if first < len(NoDir) || (len(NoDir)+1)*(len(blk.dirs)-1) > blk.len-first {
			return nil, Closed{}, fmt.Errorf("%w: its default directories (%s) leave too little room for %q", ErrNotLoader, strings.Join(blk.dirs, " "), NoDir)
		}
		// The search copy is the one whose lengths array exists (glibc's
		// system_dirs_len, one machine word per directory).
		if at := findLengths(out, ro, blk.dirs, wordSize, order); len(at) == 1 {
			if searched {
				return nil, Closed{}, fmt.Errorf("%w: two lists of default directories with their lengths", ErrNotLoader)
			}
			searched = true
			for i := 1; i < len(blk.dirs); i++ {
				putWord(out[at[0]+i*wordSize:], wordSize, order, uint64(len(NoDir)))
			}
		}
		c.Dirs = append(c.Dirs, blk.dirs...)
		clear(out[blk.off : blk.off+blk.len])
		copy(out[blk.off:], NoDir)
		for i, p := 1, blk.off+first+1; i < len(blk.dirs); i, p = i+1, p+len(NoDir)+1 {
			copy(out[p:], NoDir)
		}
	}
	if !searched {
		return nil, Closed{}, fmt.Errorf("%w: no list of default library directories (like \"/lib/x86_64-linux-gnu/\", \"/usr/lib/\") with its lengths found", ErrNotLoader)
	}
	return out, c, nil
}

// IsClosed reports whether data is a loader that Close closed: it holds
// neither the cache nor the preload path, and the empty strings left in
// their place are there.
func IsClosed(data []byte) bool {
	return len(findString(data, Cache)) == 0 && len(findString(data, Preload)) == 0 && isClosed(data)
}

func isClosed(data []byte) bool {
	return len(findString(data, "\x00"+Cache[1:])) == 1 && len(findString(data, "\x00"+Preload[1:])) == 1 &&
		bytes.Contains(data, []byte(NoDir+"\x00"))
}

// findString returns the offsets of s as a whole NUL-terminated string
// (preceded by a NUL or the start of data).
func findString(data []byte, s string) []int {
	var at []int
	needle := append([]byte(s), 0)
	for i := 0; ; {
		j := bytes.Index(data[i:], needle)
		if j < 0 {
			return at
		}
		j += i
		if j == 0 || data[j-1] == 0 {
			at = append(at, j)
		}
		i = j + 1
	}
}

// dirBlock is a run of NUL-terminated default directories.
type dirBlock struct {
	off, len int
	dirs     []string
}

// dirBlocks finds every run of two or more NUL-terminated strings that all
// look like library directories and that holds both a /lib and a /usr/lib
// one: the loader's SYSTEM_DIRS, which glibc keeps for the search and a
// second time for ld.so --help and --list-diagnostics.
func dirBlocks(data []byte) []dirBlock {
	var out []dirBlock
	for i := 0; i < len(data); {
		j := bytes.IndexByte(data[i:], '/')
		if j < 0 {
			break
		}
		start := i + j
		// A block starts a string: after a NUL, or at an aligned offset
		// (the arrays are aligned, and what precedes them may be data).
		if start > 0 && data[start-1] != 0 && start%4 != 0 {
			i = start + 1
			continue
		}
		var dirs []string
		end := start
		for end < len(data) && data[end] == '/' {
			n := bytes.IndexByte(data[end:], 0)
			if n < 0 || !libDir().Match(data[end:end+n]) {
				break
			}
			dirs = append(dirs, string(data[end:end+n]))
			end += n + 1
		}
		if len(dirs) >= 2 && hasBoth(dirs) {
			// The last NUL stays: it ends the block.
			out = append(out, dirBlock{off: start, len: end - 1 - start, dirs: dirs})
			i = end
			continue
		}
		i = start + 1
	}
	return out
}

func hasBoth(dirs []string) bool {
	var lib, usr bool
	for _, d := range dirs {
		if len(d) > 4 && d[:4] == "/usr" {
			usr = true
		} else {
			lib = true
		}
	}
	return lib && usr
}

// ranges are file offsets of read-only loadable bytes.
type ranges [][2]int64

func (r ranges) contains(off, n int) bool {
	for _, x := range r {
		if int64(off) >= x[0] && int64(off+n) <= x[1] {
			return true
		}
	}
	return false
}

// readOnlyRanges parses data with the project's ELF reader and returns
// its read-only loadable bytes, its word size and byte order.
func readOnlyRanges(data []byte) (ranges, int, binary.ByteOrder, error) {
	f, err := elf.Parse(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, 0, nil, fmt.Errorf("%w: %v", ErrNotLoader, err)
	}
	if f.Type != elf.TypeDyn {
		return nil, 0, nil, fmt.Errorf("%w: ELF type %v, want a shared object", ErrNotLoader, f.Type)
	}
	r, err := f.ReadOnlyRanges(int64(len(data)))
	if err != nil {
		return nil, 0, nil, fmt.Errorf("%w: %v", ErrNotLoader, err)
	}
	wordSize := 8
	if f.Class == elf.Class32 {
		wordSize = 4
	}
	var order binary.ByteOrder = binary.LittleEndian
	if f.Data == elf.Data2MSB {
		order = binary.BigEndian
	}
	return r, wordSize, order, nil
}

// findLengths returns the offsets, in read-only bytes, of an array of
// machine words holding the lengths of dirs.
func findLengths(data []byte, ro ranges, dirs []string, wordSize int, order binary.ByteOrder) []int {
	want := make([]byte, wordSize*len(dirs))
	for i, d := range dirs {
		putWord(want[i*wordSize:], wordSize, order, uint64(len(d)))
	}
	var at []int
	for i := 0; ; {
		j := bytes.Index(data[i:], want)
		if j < 0 {
			return at
		}
		j += i
		if j%wordSize == 0 && ro.contains(j, len(want)) {
			at = append(at, j)
		}
		i = j + 1
	}
}

func putWord(b []byte, size int, order binary.ByteOrder, v uint64) {
	if size == 4 {
		order.PutUint32(b, uint32(v))
	} else {
		order.PutUint64(b, v)
	}
}
