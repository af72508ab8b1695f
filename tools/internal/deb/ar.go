package deb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// arMagic opens every ar archive, and so every .deb.
const arMagic = "!<arch>\n"

const arHeaderLen = 60

// FormatError reports malformed container data at a byte offset.
type FormatError struct {
	Off int64
	Msg string
}

func (e *FormatError) Error() string { return fmt.Sprintf("offset %d: %s", e.Off, e.Msg) }

// ArHeader describes one member of an ar archive.
type ArHeader struct {
	Name string
	Size int64
	// Offset is where the member's data starts in the archive.
	Offset int64
}

// ArReader reads the members of an ar archive in order, streaming: no
// member is held in memory, whatever its declared size.
type ArReader struct {
	r       io.Reader
	off     int64 // bytes consumed from r
	left    int64 // unread bytes of the current member
	pad     bool  // a padding byte follows the current member
	started bool
}

// NewArReader checks the ar magic and returns a reader positioned before
// the first member.
func NewArReader(r io.Reader) (*ArReader, error) {
	var magic [len(arMagic)]byte
	n, err := io.ReadFull(r, magic[:])
	if err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return nil, &FormatError{0, "empty file, not an ar archive"}
		}
		if !bytes.Equal(magic[:n], []byte(arMagic)[:n]) {
			return nil, &FormatError{0, "not an ar archive (bad magic)"}
		}
		return nil, &FormatError{int64(n), "truncated ar magic"}
	}
	if string(magic[:]) != arMagic {
		return nil, &FormatError{0, "not an ar archive (bad magic)"}
	}
	return &ArReader{r: r, off: int64(len(arMagic))}, nil
}

// Next skips what is left of the current member and returns the header of
// the next one, or io.EOF after the last.
func (a *ArReader) Next() (*ArHeader, error) {
	if a.started {
		skip := a.left
		if a.pad {
			skip++
		}
		if skip > 0 {
			n, err := io.CopyN(io.Discard, a.r, skip)
			a.off += n
			if err != nil {
				if errors.Is(err, io.EOF) {
					if a.pad && n == skip-1 && a.left == 0 {
						// A missing final padding byte is common and harmless.
						a.left = 0
						return nil, io.EOF
					}
					return nil, &FormatError{a.off, "truncated ar member"}
				}
				return nil, err
			}
		}
	}
	a.started = true
	a.left, a.pad = 0, false
	var hdr [arHeaderLen]byte
	n, err := io.ReadFull(a.r, hdr[:])
	start := a.off
	a.off += int64(n)
	if err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &FormatError{start, "truncated ar member header"}
		}
		return nil, err
	}
	if hdr[58] != '`' || hdr[59] != '\n' {
		return nil, &FormatError{start, "bad ar member header terminator"}
	}
	name := strings.TrimRight(string(hdr[0:16]), " ")
	if strings.HasPrefix(name, "#1/") {
		return nil, &FormatError{start, "BSD long member names are not used by .deb files"}
	}
	name = strings.TrimSuffix(name, "/")
	if name == "" {
		return nil, &FormatError{start, "empty ar member name"}
	}
	for i := 0; i < len(name); i++ {
		if name[i] < ' ' || name[i] >= 0x7f || name[i] == '/' {
			return nil, &FormatError{start, fmt.Sprintf("bad character %q in ar member name", name[i])}
		}
	}
	sizeField := strings.TrimRight(string(hdr[48:58]), " ")
	if sizeField == "" {
		return nil, &FormatError{start + 48, "empty ar member size"}
	}
	for i := 0; i < len(sizeField); i++ {
		if !isDigit(sizeField[i]) {
			return nil, &FormatError{start + 48, fmt.Sprintf("ar member size %q is not a decimal number", sizeField)}
		}
	}
	size, err := strconv.ParseInt(sizeField, 10, 64)
	if err != nil {
		return nil, &FormatError{start + 48, fmt.Sprintf("ar member size %q: %v", sizeField, err)}
	}
	a.left = size
	a.pad = size%2 == 1
	return &ArHeader{Name: name, Size: size, Offset: a.off}, nil
}

// Read reads from the current member. A member cut short by the end of the
// archive is an error, not a quiet short read.
func (a *ArReader) Read(p []byte) (int, error) {
	if a.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > a.left {
		p = p[:a.left]
	}
	n, err := a.r.Read(p)
	a.left -= int64(n)
	a.off += int64(n)
	if errors.Is(err, io.EOF) {
		if a.left > 0 {
			return n, &FormatError{a.off, fmt.Sprintf("ar member truncated: %d bytes missing", a.left)}
		}
		err = nil
	}
	return n, err
}
