package deb

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Field is one field of a deb822 paragraph. Value holds the first line
// with surrounding blanks removed, then each continuation line, also
// trimmed, after a newline.
type Field struct {
	Name  string
	Value string
}

// Paragraph is one deb822 stanza: fields in file order, names unique
// without regard to case.
type Paragraph struct {
	Fields []Field
	// Line is the 1-based line where the paragraph starts.
	Line int
}

// Get returns the value of the field called name (compared without regard
// to case) and "" when it is absent.
func (p Paragraph) Get(name string) string {
	v, _ := p.Lookup(name)
	return v
}

// Lookup is Get that also reports whether the field is present.
func (p Paragraph) Lookup(name string) (string, bool) {
	for _, f := range p.Fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// Limits for deb822 input. A Packages index has lines of a few KiB at most
// (long Breaks fields); anything far beyond that is not a control file.
const (
	maxLineLen       = 1 << 20
	maxParagraphSize = 16 << 20
	maxFields        = 1024
)

// ParseError locates a mistake in deb822 input.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// ParseOptions tunes ParseParagraphs.
type ParseOptions struct {
	// Keep, when non-nil, names the only fields stored (compared without
	// regard to case). Other fields are still checked for syntax but not
	// kept: reading a 60 MiB Packages index this way stays cheap.
	Keep []string
	// AllowComments skips lines starting with '#', as debian/control
	// allows. Packages indexes and Release files have none.
	AllowComments bool
}

// ParseParagraphs reads deb822 paragraphs from r and calls fn for each in
// order. Paragraphs are separated by lines that are empty or hold only
// blanks; a line starting with a space or tab continues the field before
// it. A syntax error stops the parse and is returned with its line number.
func ParseParagraphs(r io.Reader, opts ParseOptions, fn func(Paragraph) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		cur     Paragraph
		size    int
		lineNo  int
		inPara  bool
		keeping bool // whether the last field line was kept
		seen    = map[string]bool{}
	)
	keep := func(name string) bool {
		if opts.Keep == nil {
			return true
		}
		for _, k := range opts.Keep {
			if strings.EqualFold(k, name) {
				return true
			}
		}
		return false
	}
	flush := func() error {
		if !inPara {
			return nil
		}
		p := cur
		cur = Paragraph{}
		clear(seen)
		inPara, size = false, 0
		return fn(p)
	}
	for {
		line, err := readLine(br)
		if errors.Is(err, io.EOF) && line == nil {
			return flush()
		}
		lineNo++
		if err != nil && !errors.Is(err, io.EOF) {
			if errors.Is(err, errLineTooLong) {
				return &ParseError{lineNo, fmt.Sprintf("line longer than %d bytes", maxLineLen)}
			}
			return fmt.Errorf("line %d: %w", lineNo, err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			continue
		}
		if opts.AllowComments && line[0] == '#' {
			continue
		}
		size += len(line)
		if size > maxParagraphSize {
			return &ParseError{lineNo, fmt.Sprintf("paragraph larger than %d bytes", maxParagraphSize)}
		}
		if line[0] == ' ' || line[0] == '\t' {
			if !inPara {
				return &ParseError{lineNo, "continuation line outside a field"}
			}
			if keeping {
				f := &cur.Fields[len(cur.Fields)-1]
				f.Value += "\n" + string(bytes.TrimSpace(line))
			}
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return &ParseError{lineNo, fmt.Sprintf("%q is not a field (want Name: value)", truncate(line))}
		}
		name := string(line[:colon])
		if err := checkFieldName(name); err != nil {
			return &ParseError{lineNo, err.Error()}
		}
		lname := strings.ToLower(name)
		if seen[lname] {
			return &ParseError{lineNo, fmt.Sprintf("duplicate field %q", name)}
		}
		seen[lname] = true
		if len(seen) > maxFields {
			return &ParseError{lineNo, fmt.Sprintf("more than %d fields in one paragraph", maxFields)}
		}
		if !inPara {
			inPara = true
			cur.Line = lineNo
		}
		keeping = keep(name)
		if keeping {
			cur.Fields = append(cur.Fields, Field{Name: name, Value: string(bytes.TrimSpace(line[colon+1:]))})
		}
		if errors.Is(err, io.EOF) {
			return flush()
		}
	}
}

// ParseControl parses data that must hold exactly one paragraph, such as
// the control file of a package.
func ParseControl(data []byte) (Paragraph, error) {
	var ps []Paragraph
	err := ParseParagraphs(bytes.NewReader(data), ParseOptions{AllowComments: true}, func(p Paragraph) error {
		ps = append(ps, p)
		if len(ps) > 1 {
			return &ParseError{p.Line, "more than one paragraph"}
		}
		return nil
	})
	if err != nil {
		return Paragraph{}, err
	}
	if len(ps) == 0 {
		return Paragraph{}, errors.New("no paragraph")
	}
	return ps[0], nil
}

func checkFieldName(name string) error {
	if name[0] == '-' || name[0] == '#' {
		return fmt.Errorf("field name %q may not start with %q", name, name[0])
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f {
			return fmt.Errorf("field name %q holds a blank or non-ASCII character", name)
		}
	}
	return nil
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line without its newline. At the end of input
// it returns the last, unterminated line with io.EOF, or nil and io.EOF.
func readLine(br *bufio.Reader) ([]byte, error) {
	var long []byte
	for {
		frag, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, frag...)
			if len(long) > maxLineLen {
				return nil, errLineTooLong
			}
			continue
		}
		if long != nil {
			frag = append(long, frag...)
			if len(frag) > maxLineLen {
				return nil, errLineTooLong
			}
		}
		if err != nil {
			if len(frag) == 0 {
				return nil, err
			}
			return bytes.TrimSuffix(frag, []byte{'\r'}), err
		}
		frag = frag[:len(frag)-1]
		return bytes.TrimSuffix(frag, []byte{'\r'}), nil
	}
}

func truncate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}
