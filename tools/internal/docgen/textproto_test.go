package docgen

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// flat renders a tree compactly for comparisons: name=kind:text, messages
// in braces.
func flat(m *Message) string {
	var b strings.Builder
	var walk func(m *Message)
	walk = func(m *Message) {
		for i, f := range m.Fields {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(f.Name)
			if f.Kind == KindMessage {
				b.WriteString("{")
				walk(f.Msg)
				b.WriteString("}")
				continue
			}
			b.WriteString("=" + f.Kind.String() + ":" + f.Text)
		}
	}
	walk(m)
	return b.String()
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"only space and comments", " \n# c\n\t# d", ""},
		{"string", `a: "x"`, "a=string:x"},
		{"single quotes", `a: 'x"y'`, `a=string:x"y`},
		{"simple escapes", `a: "\a\b\f\n\r\t\v\\\'\"\?"`, "a=string:\a\b\f\n\r\t\v\\'\"?"},
		{"octal", `a: "\303\251\0\12\1234"`, "a=string:\u00e9\x00\n" + "S4"},
		{"hex", `a: "\x41\xe\x4a7"`, "a=string:A\x0eJ7"},
		{"unicode", `a: "\u00e9\U0001F600"`, "a=string:é😀"},
		{"raw utf8", `a: "→"`, "a=string:→"},
		{"concatenation", "a: \"x\" 'y'\n # c\n \"z\"", "a=string:xyz"},
		{"ident", "a: LABEL_LIST", "a=identifier:LABEL_LIST"},
		{"bools", "a: true b: False", "a=identifier:true b=identifier:False"},
		{"numbers", "a: 0 b: -12 c: 0x1F d: 017 e: 1.5e-3 f: .5 g: 2f h: 18446744073709551615",
			"a=number:0 b=number:-12 c=number:0x1F d=number:017 e=number:1.5e-3 f=number:.5 g=number:2f h=number:18446744073709551615"},
		{"negative inf", "a: -inf b: inf", "a=identifier:-inf b=identifier:inf"},
		{"nesting", "a { b { c: 1 } d: 'x' } e: 2", "a{b{c=number:1} d=string:x} e=number:2"},
		{"colon before message", "a: { b: 1 }", "a{b=number:1}"},
		{"angle brackets", "a < b: 1 >", "a{b=number:1}"},
		{"repeated", "a: 1\na: 2\nb {}\nb { }", "a=number:1 a=number:2 b{} b{}"},
		{"separators", "a: 1, b: 2; c {},", "a=number:1 b=number:2 c{}"},
		{"list", "a: [1, 'x', {b: 2}, <c: 3>]", "a=number:1 a=string:x a{b=number:2} a{c=number:3}"},
		{"empty list", "a: [] b: 1", "b=number:1"},
		{"crlf", "a: 1\r\nb: 2\r\n", "a=number:1 b=number:2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse("t.textproto", []byte(tc.in))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if got := flat(m); got != tc.want {
				t.Errorf("Parse(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestParsePositions(t *testing.T) {
	t.Parallel()
	m, err := Parse("t", []byte("# c\n  a {\n\tb: \"x\"\n  }\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := m.Fields[0]
	b := a.Msg.Fields[0]
	if a.Pos != (Pos{2, 3}) || a.ValuePos != (Pos{2, 5}) || b.Pos != (Pos{3, 2}) || b.ValuePos != (Pos{3, 5}) {
		t.Errorf("positions: a %v %v, b %v %v", a.Pos, a.ValuePos, b.Pos, b.ValuePos)
	}
	if got := m.Get("a"); len(got) != 1 || got[0] != a {
		t.Errorf("Get(a) = %v", got)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
	}{
		{"a: \"x", `f:1:4: unterminated string`},
		{"a: \"x\ny\"", `f:1:6: newline in string started at 1:4; write it as \n`},
		{`a: "\q"`, `f:1:5: unknown escape in string: backslash followed by 'q'`},
		{`a: "\`, `f:1:5: unterminated string: input ends after a backslash`},
		{`a: "\400"`, `f:1:5: octal escape is larger than \377`},
		{`a: "\xg"`, `f:1:5: \x escape without hex digits`},
		{`a: "\u12"`, `f:1:5: \u escape needs 4 hex digits`},
		{`a: "\ud800"`, `f:1:5: \u escape U+D800 is not a Unicode scalar value`},
		{`a: "\U00110000"`, `f:1:5: \U escape U+110000 is not a Unicode scalar value`},
		{"a {\n  b: 1\n", `f:3:1: unexpected end of input: missing '}' to close the message opened at 1:3`},
		{"a < b: 1 }", `f:1:10: expected a field name, found '}'`},
		{"}", `f:1:1: expected a field name, found '}'`},
		{"a 1", `f:1:3: expected ':' or '{' after field name "a", found '1'`},
		{"a:", `f:1:3: unexpected end of input: expected a value for field "a"`},
		{"a: }", `f:1:4: expected a value for field "a", found '}'`},
		{"a: 1x", `f:1:4: invalid number "1x"`},
		{"a: 08", `f:1:4: invalid number "08"`},
		{"a: 1e", `f:1:4: invalid number "1e"`},
		{"a: 18446744073709551616", `f:1:4: invalid number "18446744073709551616"`},
		{"a: -foo", `f:1:4: invalid number -foo`},
		{"a: [1 2]", `f:1:7: expected ',' or ']' in the list opened at 1:4, found '2'`},
		{"a: [1,", `f:1:7: unexpected end of input: missing ']' to close the list opened at 1:4`},
		{"[ext]: 1", `f:1:1: extension and Any fields ([...]) are not supported`},
		{"a: 1\n\xff", `f:2:1: expected a field name, found byte 0xff`},
		{"a: 1\n  é: 2", `f:2:3: expected a field name, found 'é'`},
	} {
		_, err := Parse("f", []byte(tc.in))
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want error %q", tc.in, tc.want)
			continue
		}
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) error %T is not *Error", tc.in, err)
		}
		if err.Error() != tc.want {
			t.Errorf("Parse(%q)\n got %q\nwant %q", tc.in, err, tc.want)
		}
	}
}

func TestParseLimits(t *testing.T) {
	t.Parallel()
	lim := Limits{MaxBytes: 100, MaxDepth: 3, MaxFields: 5}
	for _, tc := range []struct {
		in, want string
	}{
		{strings.Repeat(" ", 101), "f:1:1: input is 101 bytes, more than the limit of 100"},
		{"a{b{c{}}}", ""},
		{"a{b{c{d{}}}}", "f:1:8: messages nested deeper than 3"},
		{"a:1 a:2 a:3 a:4 a:5", ""},
		{"a:1 a:2 a:3 a:4 a:5 a:6", "f:1:21: more than 5 fields"},
		{"a: [1,2,3,4,5,6]", "f:1:1: more than 5 fields"},
	} {
		_, err := ParseLimits("f", []byte(tc.in), lim)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("ParseLimits(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestParseHostile feeds inputs at the default size limit that would blow
// the stack or memory of a naive parser; each must fail or succeed fast.
func TestParseHostile(t *testing.T) {
	t.Parallel()
	n := DefaultMaxBytes / 2
	for name, in := range map[string]string{
		"deep braces":   strings.Repeat("a{", n),
		"deep angles":   strings.Repeat("a<", n),
		"deep lists":    "a: [" + strings.Repeat("{a: [", n/5),
		"many fields":   strings.Repeat("a:1 ", n/4),
		"long string":   `a: "` + strings.Repeat(`\377`, n/4) + `"`,
		"many strings":  "a: " + strings.Repeat(`"" `, n/3),
		"long comment":  "#" + strings.Repeat("x", n),
		"long number":   "a: " + strings.Repeat("9", n),
		"long ident":    strings.Repeat("a", n) + ": 1",
		"unterminated":  `a: "` + strings.Repeat("x", n),
		"many messages": strings.Repeat("a{}", n/3),
	} {
		start := time.Now()
		m, err := Parse("f", []byte(in))
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("%s: took %v", name, d)
		}
		if err == nil && m == nil {
			t.Errorf("%s: nil message without error", name)
		}
		if err == nil && (name == "deep braces" || name == "deep angles" || name == "deep lists" || name == "many fields" || name == "unterminated" || name == "many messages") {
			t.Errorf("%s: parsed, want a limit or syntax error", name)
		}
	}
}

func TestKindString(t *testing.T) {
	t.Parallel()
	for k, want := range map[Kind]string{KindString: "string", KindIdent: "identifier", KindNumber: "number", KindMessage: "message", 0: "Kind(0)", 9: "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}
