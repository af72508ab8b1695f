package sysroot

import (
	"bytes"
	debugelf "debug/elf"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/rules-portable/rules_portable/tools/internal/elf"
)

// maxLibcSize bounds how much of a libc.so.6 is read; real ones are about
// 2 MiB.
const maxLibcSize = 64 << 20

// glibcBanner matches the version in the banner glibc prints when run as a
// program: "GNU C Library (Debian GLIBC 2.41-12) stable release version
// 2.41." The banner is a string constant in .rodata; it is read, never
// run.
var glibcBanner = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`release version ([0-9]+\.[0-9]+(?:\.[0-9]+)?)`) })

// DetectGlibc reads the glibc version out of the libc.so.6 at path: the
// "GNU C Library ... release version X.Y" banner in its read-only data,
// checked against the GLIBC_x.y version definitions the library exports
// (the newest definition may not exceed the release). Nothing is executed.
func DetectGlibc(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if st.Size() > maxLibcSize {
		return "", fmt.Errorf("%s: %d bytes, too large for a libc.so.6", path, st.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	f, err := debugelf.NewFile(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("%s: not an ELF file: %w", path, err)
	}
	version := ""
	for _, s := range f.Sections {
		if s.Type != debugelf.SHT_PROGBITS || s.Flags&debugelf.SHF_ALLOC == 0 || s.Flags&debugelf.SHF_EXECINSTR != 0 {
			continue
		}
		if s.Offset > uint64(len(data)) || s.Size > uint64(len(data))-s.Offset {
			continue
		}
		sec := data[s.Offset : s.Offset+s.Size]
		i := bytes.Index(sec, []byte("GNU C Library"))
		if i < 0 {
			continue
		}
		end := bytes.IndexByte(sec[i:], 0)
		if end < 0 || end > 1024 {
			end = min(1024, len(sec)-i)
		}
		if m := glibcBanner().FindSubmatch(sec[i : i+end]); m != nil {
			version = string(m[1])
			break
		}
	}
	if version == "" {
		return "", fmt.Errorf("%s: no \"GNU C Library ... release version\" banner; is this glibc's libc.so.6?", path)
	}
	defs, err := f.DynamicVersions()
	if err != nil {
		return "", fmt.Errorf("%s: version definitions: %w", path, err)
	}
	newest := ""
	for _, d := range defs {
		if rest, ok := strings.CutPrefix(d.Name, "GLIBC_"); ok && isDotted(rest) {
			if newest == "" || elf.CompareVersions(d.Name, newest) > 0 {
				newest = d.Name
			}
		}
	}
	if newest == "" {
		return "", fmt.Errorf("%s: defines no GLIBC_x.y symbol versions; not glibc's libc.so.6", path)
	}
	if elf.CompareVersions(newest, "GLIBC_"+version) > 0 {
		return "", fmt.Errorf("%s: banner says glibc %s but the library defines %s", path, version, newest)
	}
	return version, nil
}

// DetectGlibcxx returns the newest GLIBCXX_x.y.z version that the
// libstdc++.so.6 at path defines, without the prefix.
func DetectGlibcxx(path string) (string, error) {
	f, err := debugelf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	defs, err := f.DynamicVersions()
	if err != nil {
		return "", fmt.Errorf("%s: version definitions: %w", path, err)
	}
	newest := ""
	for _, d := range defs {
		if rest, ok := strings.CutPrefix(d.Name, "GLIBCXX_"); ok && isDotted(rest) {
			if newest == "" || elf.CompareVersions(d.Name, newest) > 0 {
				newest = d.Name
			}
		}
	}
	if newest == "" {
		return "", fmt.Errorf("%s: defines no GLIBCXX_ versions", path)
	}
	return strings.TrimPrefix(newest, "GLIBCXX_"), nil
}

func isDotted(s string) bool {
	if s == "" {
		return false
	}
	for _, p := range strings.Split(s, ".") {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// Compat is what the symbol-version gate knows about a sysroot.
type Compat struct {
	Label   string // e.g. v1
	Glibc   string // e.g. 2.36
	Glibcxx string // e.g. 3.4.30; "" when the sysroot has no libstdc++
}

// TooNewError is returned by CheckCompat for a file that needs a newer
// symbol version than the sysroot provides.
type TooNewError struct {
	Name  string // the file
	Need  string // e.g. GLIBC_2.38
	Label string // the sysroot's label
	Have  string // e.g. "glibc 2.36"
	Fix   string
}

func (e *TooNewError) Error() string {
	return fmt.Sprintf("%s: needs %s but sysroot %s has %s; %s", e.Name, e.Need, e.Label, e.Have, e.Fix)
}

// CheckCompat refuses an ELF file that needs a GLIBC_x.y (or GLIBCXX_x.y)
// symbol version newer than the sysroot provides, naming both versions:
// "app: needs GLIBC_2.38 but sysroot v1 has glibc 2.36; ...".
func CheckCompat(name string, f *elf.File, c Compat) error {
	if need := f.MaxVersion("GLIBC_"); need != "" && elf.CompareVersions(need, "GLIBC_"+c.Glibc) > 0 {
		return &TooNewError{Name: name, Need: need, Label: c.Label, Have: "glibc " + c.Glibc,
			Fix: "use a sysroot with glibc " + strings.TrimPrefix(need, "GLIBC_") + " or newer"}
	}
	if need := f.MaxVersion("GLIBCXX_"); need != "" {
		if c.Glibcxx == "" {
			return &TooNewError{Name: name, Need: need, Label: c.Label, Have: "no libstdc++", Fix: "add libstdc++6 to the sysroot lock"}
		}
		if elf.CompareVersions(need, "GLIBCXX_"+c.Glibcxx) > 0 {
			return &TooNewError{Name: name, Need: need, Label: c.Label, Have: "GLIBCXX_" + c.Glibcxx, Fix: "use a sysroot with a newer libstdc++6"}
		}
	}
	return nil
}
