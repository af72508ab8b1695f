package docgen

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// seed adds the testdata inputs (real starlark_doc_extract output among
// them) to a fuzz target's corpus.
func seed(f *testing.F) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.textproto"))
	if err != nil {
		f.Fatal(err)
	}
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "a: 1", `a: "\303\251\x41\u00e9\U0001F600\n\'\""`, "a { b < c: [1, {d: 'x'}] > }",
		"a: -inf b: 0x1F c: 1.5e-3f", "# c\na:1;b:2,", "rule_info { rule_name: \"r\" attribute { name: \"a\" type: 3 } }",
		"func_info { function_name: \"f\" parameter { name: \"p\" role: PARAM_ROLE_VARARGS } }",
	} {
		f.Add([]byte(s))
	}
}

// format writes a tree back in text format, escaping every byte that is
// not printable ASCII, so the round trip checks the unescaping too.
func format(b *strings.Builder, m *Message, indent string) {
	for _, f := range m.Fields {
		b.WriteString(indent + f.Name)
		switch f.Kind {
		case KindMessage:
			b.WriteString(" {\n")
			format(b, f.Msg, indent+"  ")
			b.WriteString(indent + "}\n")
			continue
		case KindString:
			b.WriteString(": \"")
			for i := 0; i < len(f.Text); i++ {
				switch c := f.Text[i]; {
				case c == '"' || c == '\\':
					b.WriteByte('\\')
					b.WriteByte(c)
				case c < 0x20 || c >= 0x7f:
					b.WriteByte('\\')
					b.WriteByte('0' + c>>6)
					b.WriteByte('0' + c>>3&7)
					b.WriteByte('0' + c&7)
				default:
					b.WriteByte(c)
				}
			}
			b.WriteString("\"")
		default:
			b.WriteString(": " + f.Text)
		}
		b.WriteString("\n")
	}
}

// checkError checks that a parse or decode error is an *Error at a
// position inside the input.
func checkError(t *testing.T, data []byte, err error) {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %T %v is not *Error", err, err)
	}
	lines := bytes.Count(data, []byte("\n")) + 1
	if pe.Pos.Line < 1 || pe.Pos.Col < 1 || pe.Pos.Line > lines {
		t.Fatalf("error position %v outside the input's %d lines: %v", pe.Pos, lines, err)
	}
}

func FuzzParse(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("f", data)
		if err != nil {
			checkError(t, data, err)
			return
		}
		var b strings.Builder
		format(&b, m, "")
		again, err := Parse("formatted", []byte(b.String()))
		if err != nil {
			t.Fatalf("formatted tree does not parse: %v\n%s", err, b.String())
		}
		if x, y := flat(m), flat(again); x != y {
			t.Fatalf("round trip changed the tree:\n%q\n%q", x, y)
		}
	})
}

func FuzzModuleInfo(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		mi, err := ParseModuleInfo("f", data)
		if err != nil {
			checkError(t, data, err)
			return
		}
		opt := Options{Title: "T", Repo: "r"}
		md := Render(mi, opt)
		if !bytes.Equal(md, Render(mi, opt)) {
			t.Fatal("two renders differ")
		}
		if !utf8.Valid(md) {
			t.Fatal("output is not UTF-8")
		}
		checkTables(t, md)
	})
}
