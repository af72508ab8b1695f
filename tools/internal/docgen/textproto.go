// Package docgen turns the ModuleInfo that Bazel's native
// starlark_doc_extract rule writes as a text proto into GitHub-flavoured
// Markdown API docs, so rules_portable can keep docs/ current without
// Stardoc's Java renderer.
//
// It works in three steps. Parse reads the protobuf text format into a
// generic tree of messages and fields, with hard limits on input size,
// nesting depth and field count so hostile input cannot exhaust the stack or
// memory; every syntax error names the file, line and column. Decode checks
// that tree against the stardoc_output.proto schema (unknown fields, wrong
// kinds, repeated singular fields and invalid UTF-8 are errors, never
// silently dropped) and yields a typed ModuleInfo. Render writes the
// Markdown page: the module docstring, then rules, macros, providers,
// functions, aspects, module extensions and repository rules, each with a
// usage block and a table of attributes, fields or parameters. Docstrings
// keep their own Markdown; text inside table cells is escaped.
//
// The same input always yields byte-identical output.
package docgen

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind says what a field's value is.
type Kind uint8

// The kinds of field values in the text format.
const (
	KindString  Kind = iota + 1 // one or more quoted strings, concatenated and unescaped
	KindIdent                   // an identifier: an enum value, true/false, inf, nan
	KindNumber                  // an integer or floating-point literal, as written
	KindMessage                 // a nested message in { } or < >
)

// String returns the kind's name as used in error messages.
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindIdent:
		return "identifier"
	case KindNumber:
		return "number"
	case KindMessage:
		return "message"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Pos is a position in the input: 1-based line and 1-based byte column.
type Pos struct {
	Line, Col int
}

// String formats the position as line:column.
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Field is one name/value pair. A repeated field appears once per value,
// in input order.
type Field struct {
	Name     string
	Pos      Pos // where the name starts
	Kind     Kind
	Text     string   // the decoded string, the identifier or the number literal
	ValuePos Pos      // where the value starts
	Msg      *Message // the nested message when Kind is KindMessage
}

// Message is a list of fields in input order.
type Message struct {
	Fields []*Field
}

// Get returns the fields named name, in input order.
func (m *Message) Get(name string) []*Field {
	var out []*Field
	for _, f := range m.Fields {
		if f.Name == name {
			out = append(out, f)
		}
	}
	return out
}

// Error is a syntax or schema error at a position of a named input.
type Error struct {
	File string
	Pos  Pos
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%s: %s", e.File, e.Pos, e.Msg) }

// Limits bound what Parse accepts, so that hostile input can neither blow
// the stack nor make the tree arbitrarily large.
type Limits struct {
	MaxBytes  int // input size
	MaxDepth  int // nesting of messages
	MaxFields int // fields in the whole tree, counting each repeated value
}

// Default limits: far above what starlark_doc_extract writes for a large
// rule set (hundreds of fields, nesting depth 4), far below anything that
// could hurt.
const (
	DefaultMaxBytes  = 8 << 20
	DefaultMaxDepth  = 32
	DefaultMaxFields = 200_000
)

// DefaultLimits returns the limits Parse uses.
func DefaultLimits() Limits {
	return Limits{MaxBytes: DefaultMaxBytes, MaxDepth: DefaultMaxDepth, MaxFields: DefaultMaxFields}
}

// Parse reads data, named file in errors, as a text-format protobuf message
// with the default limits.
func Parse(file string, data []byte) (*Message, error) {
	return ParseLimits(file, data, DefaultLimits())
}

// ParseLimits is Parse with explicit limits.
//
// The accepted syntax is the protobuf text format: fields `name: value`,
// messages `name { ... }` or `name: < ... >`, list values `name: [a, b]`,
// optional `,` or `;` after a field, `#` comments, adjacent string literals
// concatenated, and the C-style escapes \a \b \f \n \r \t \v \\ \' \" \?,
// octal \ooo, hex \xhh, \uhhhh and \Uhhhhhhhh. Extension and Any fields
// (`[name]`) are rejected.
func ParseLimits(file string, data []byte, lim Limits) (*Message, error) {
	p := &parser{file: file, src: data, line: 1, col: 1, lim: lim}
	if len(data) > lim.MaxBytes {
		return nil, p.errf(Pos{1, 1}, "input is %d bytes, more than the limit of %d", len(data), lim.MaxBytes)
	}
	root := &Message{}
	if err := p.fields(root, 0, 0, Pos{}); err != nil {
		return nil, err
	}
	return root, nil
}

type parser struct {
	file      string
	src       []byte
	off       int
	line, col int
	lim       Limits
	nfields   int
}

func (p *parser) errf(pos Pos, format string, args ...any) error {
	return &Error{File: p.file, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) pos() Pos { return Pos{p.line, p.col} }

func (p *parser) eof() bool { return p.off >= len(p.src) }

func (p *parser) peek() byte { return p.src[p.off] }

// advance moves past n bytes, keeping line and column current.
func (p *parser) advance(n int) {
	for ; n > 0 && p.off < len(p.src); n-- {
		if p.src[p.off] == '\n' {
			p.line++
			p.col = 1
		} else {
			p.col++
		}
		p.off++
	}
}

// skipSpace skips white space and # comments.
func (p *parser) skipSpace() {
	for !p.eof() {
		switch c := p.peek(); {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			p.advance(1)
		case c == '#':
			for !p.eof() && p.peek() != '\n' {
				p.advance(1)
			}
		default:
			return
		}
	}
}

// describe names the byte at the current offset for error messages.
func (p *parser) describe() string {
	if p.eof() {
		return "end of input"
	}
	r, _ := utf8.DecodeRune(p.src[p.off:])
	if r == utf8.RuneError {
		return fmt.Sprintf("byte 0x%02x", p.peek())
	}
	return strconv.QuoteRune(r)
}

func isLetter(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

func (p *parser) ident() string {
	start := p.off
	if p.eof() || !isLetter(p.peek()) {
		return ""
	}
	for !p.eof() && (isLetter(p.peek()) || isDigit(p.peek())) {
		p.advance(1)
	}
	return string(p.src[start:p.off])
}

// fields reads fields into m until close (or the end of input when close
// is 0). open is where the enclosing message started.
func (p *parser) fields(m *Message, depth int, close byte, open Pos) error {
	for {
		p.skipSpace()
		if p.eof() {
			if close != 0 {
				return p.errf(p.pos(), "unexpected end of input: missing %q to close the message opened at %s", close, open)
			}
			return nil
		}
		if c := p.peek(); c == close {
			p.advance(1)
			return nil
		}
		namePos := p.pos()
		if p.peek() == '[' {
			return p.errf(namePos, "extension and Any fields ([...]) are not supported")
		}
		name := p.ident()
		if name == "" {
			return p.errf(namePos, "expected a field name, found %s", p.describe())
		}
		p.skipSpace()
		colon := false
		if !p.eof() && p.peek() == ':' {
			colon = true
			p.advance(1)
			p.skipSpace()
		}
		switch {
		case !p.eof() && (p.peek() == '{' || p.peek() == '<'):
			if err := p.message(m, name, namePos, depth); err != nil {
				return err
			}
		case !colon:
			return p.errf(p.pos(), "expected ':' or '{' after field name %q, found %s", name, p.describe())
		case !p.eof() && p.peek() == '[':
			if err := p.list(m, name, namePos, depth); err != nil {
				return err
			}
		default:
			if err := p.scalar(m, name, namePos); err != nil {
				return err
			}
		}
		p.skipSpace()
		if !p.eof() && (p.peek() == ',' || p.peek() == ';') {
			p.advance(1)
		}
	}
}

func (p *parser) add(m *Message, f *Field) error {
	if p.nfields >= p.lim.MaxFields {
		return p.errf(f.Pos, "more than %d fields", p.lim.MaxFields)
	}
	p.nfields++
	m.Fields = append(m.Fields, f)
	return nil
}

// message reads a nested message starting at { or <.
func (p *parser) message(m *Message, name string, namePos Pos, depth int) error {
	open := p.pos()
	if depth+1 > p.lim.MaxDepth {
		return p.errf(open, "messages nested deeper than %d", p.lim.MaxDepth)
	}
	close := byte('}')
	if p.peek() == '<' {
		close = '>'
	}
	p.advance(1)
	f := &Field{Name: name, Pos: namePos, Kind: KindMessage, ValuePos: open, Msg: &Message{}}
	if err := p.add(m, f); err != nil {
		return err
	}
	return p.fields(f.Msg, depth+1, close, open)
}

// list reads `[v, v, ...]`, adding one field per element.
func (p *parser) list(m *Message, name string, namePos Pos, depth int) error {
	open := p.pos()
	p.advance(1)
	p.skipSpace()
	if !p.eof() && p.peek() == ']' {
		p.advance(1)
		return nil
	}
	for {
		p.skipSpace()
		if p.eof() {
			return p.errf(p.pos(), "unexpected end of input: missing ']' to close the list opened at %s", open)
		}
		var err error
		if c := p.peek(); c == '{' || c == '<' {
			err = p.message(m, name, namePos, depth)
		} else {
			err = p.scalar(m, name, namePos)
		}
		if err != nil {
			return err
		}
		p.skipSpace()
		if p.eof() {
			return p.errf(p.pos(), "unexpected end of input: missing ']' to close the list opened at %s", open)
		}
		switch p.peek() {
		case ',':
			p.advance(1)
		case ']':
			p.advance(1)
			return nil
		default:
			return p.errf(p.pos(), "expected ',' or ']' in the list opened at %s, found %s", open, p.describe())
		}
	}
}

// scalar reads a string, identifier or number value.
func (p *parser) scalar(m *Message, name string, namePos Pos) error {
	vpos := p.pos()
	if p.eof() {
		return p.errf(vpos, "unexpected end of input: expected a value for field %q", name)
	}
	f := &Field{Name: name, Pos: namePos, ValuePos: vpos}
	switch c := p.peek(); {
	case c == '"' || c == '\'':
		var b strings.Builder
		for {
			if err := p.quoted(&b); err != nil {
				return err
			}
			p.skipSpace()
			if p.eof() || (p.peek() != '"' && p.peek() != '\'') {
				break
			}
		}
		f.Kind, f.Text = KindString, b.String()
	case isLetter(c):
		f.Kind, f.Text = KindIdent, p.ident()
	case c == '-' || c == '.' || isDigit(c):
		kind, text, err := p.number()
		if err != nil {
			return err
		}
		f.Kind, f.Text = kind, text
	default:
		return p.errf(vpos, "expected a value for field %q, found %s", name, p.describe())
	}
	return p.add(m, f)
}

// number reads a numeric literal, or -inf / -nan style identifiers.
func (p *parser) number() (Kind, string, error) {
	start, pos := p.off, p.pos()
	if p.peek() == '-' {
		p.advance(1)
		if !p.eof() && isLetter(p.peek()) {
			id := p.ident()
			switch strings.ToLower(id) {
			case "inf", "infinity", "nan":
				return KindIdent, "-" + id, nil
			}
			return 0, "", p.errf(pos, "invalid number -%s", id)
		}
	}
	hex := p.off+1 < len(p.src) && p.src[p.off] == '0' && (p.src[p.off+1] == 'x' || p.src[p.off+1] == 'X')
	for !p.eof() {
		c := p.peek()
		if isLetter(c) || isDigit(c) || c == '.' {
			p.advance(1)
			continue
		}
		if (c == '+' || c == '-') && !hex && p.off > start {
			if prev := p.src[p.off-1]; prev == 'e' || prev == 'E' {
				p.advance(1)
				continue
			}
		}
		break
	}
	text := string(p.src[start:p.off])
	if !validNumber(text) {
		return 0, "", p.errf(pos, "invalid number %q", text)
	}
	return KindNumber, text, nil
}

// validNumber accepts the protobuf text format's integer (decimal, octal,
// hex; at most 64 bits) and float literals, with an optional minus sign.
func validNumber(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		_, err := strconv.ParseUint(s[2:], 16, 64)
		return err == nil
	case len(s) > 1 && s[0] == '0' && strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0:
		_, err := strconv.ParseUint(s[1:], 8, 64)
		return err == nil
	case strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0:
		_, err := strconv.ParseUint(s, 10, 64)
		return err == nil
	}
	f := strings.TrimRight(s, "fF")
	if len(s)-len(f) > 1 || f == "" {
		return false
	}
	if strings.IndexFunc(f, func(r rune) bool {
		return !('0' <= r && r <= '9' || r == '.' || r == 'e' || r == 'E' || r == '+' || r == '-')
	}) >= 0 {
		return false
	}
	if f[0] != '.' && !isDigit(f[0]) {
		return false
	}
	_, err := strconv.ParseFloat(f, 64)
	return err == nil
}

// quoted reads one string literal and appends its decoded bytes to b.
func (p *parser) quoted(b *strings.Builder) error {
	open := p.pos()
	q := p.peek()
	p.advance(1)
	for {
		if p.eof() {
			return p.errf(open, "unterminated string")
		}
		c := p.peek()
		switch c {
		case q:
			p.advance(1)
			return nil
		case '\n':
			return p.errf(p.pos(), "newline in string started at %s; write it as \\n", open)
		case '\\':
			if err := p.escape(b); err != nil {
				return err
			}
		default:
			b.WriteByte(c)
			p.advance(1)
		}
	}
}

// simpleEscape returns the byte that \c stands for, or 0.
func simpleEscape(c byte) byte {
	switch c {
	case 'a':
		return '\a'
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'v':
		return '\v'
	case '\\', '\'', '"', '?':
		return c
	}
	return 0
}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// escape decodes one backslash escape.
func (p *parser) escape(b *strings.Builder) error {
	at := p.pos()
	p.advance(1)
	if p.eof() {
		return p.errf(at, "unterminated string: input ends after a backslash")
	}
	c := p.peek()
	if r := simpleEscape(c); r != 0 {
		b.WriteByte(r)
		p.advance(1)
		return nil
	}
	switch {
	case '0' <= c && c <= '7':
		v := 0
		for n := 0; n < 3 && !p.eof() && '0' <= p.peek() && p.peek() <= '7'; n++ {
			v = v*8 + int(p.peek()-'0')
			p.advance(1)
		}
		if v > 0xff {
			return p.errf(at, "octal escape is larger than \\377")
		}
		b.WriteByte(byte(v))
		return nil
	case c == 'x' || c == 'X':
		p.advance(1)
		v, n := 0, 0
		for ; n < 2 && !p.eof() && hexVal(p.peek()) >= 0; n++ {
			v = v*16 + hexVal(p.peek())
			p.advance(1)
		}
		if n == 0 {
			return p.errf(at, "\\x escape without hex digits")
		}
		b.WriteByte(byte(v))
		return nil
	case c == 'u' || c == 'U':
		want := 4
		if c == 'U' {
			want = 8
		}
		p.advance(1)
		v := 0
		for n := 0; n < want; n++ {
			if p.eof() || hexVal(p.peek()) < 0 {
				return p.errf(at, "\\%c escape needs %d hex digits", c, want)
			}
			v = v*16 + hexVal(p.peek())
			p.advance(1)
		}
		if v > utf8.MaxRune || (0xd800 <= v && v <= 0xdfff) {
			return p.errf(at, "\\%c escape U+%X is not a Unicode scalar value", c, v)
		}
		b.WriteRune(rune(v))
		return nil
	}
	return p.errf(at, "unknown escape in string: backslash followed by %s", p.describe())
}
