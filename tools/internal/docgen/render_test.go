package docgen

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.md from the current renderer")

// TestRenderGolden renders every testdata/NAME.textproto (three of them are
// real starlark_doc_extract output for this repository's rules/*.bzl) and
// compares with testdata/NAME.golden.md. Refresh with
// go test ./tools/internal/docgen -run TestRenderGolden -update.
func TestRenderGolden(t *testing.T) {
	t.Parallel()
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.textproto"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) < 4 {
		t.Fatalf("found %d testdata/*.textproto, want at least 4", len(inputs))
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".textproto")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			mi, err := ParseModuleInfo(in, data)
			if err != nil {
				t.Fatal(err)
			}
			got := Render(mi, Options{Title: "API: " + name, Repo: "rules_portable"})
			if again := Render(mi, Options{Title: "API: " + name, Repo: "rules_portable"}); !bytes.Equal(got, again) {
				t.Fatal("two renders differ")
			}
			checkTables(t, got)
			golden := filepath.Join("testdata", name+".golden.md")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v; create it with -update", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the rendering (refresh with -update if intended):\n%s", golden, lineDiff(string(want), string(got)))
			}
		})
	}
}

// lineDiff shows the first differing line of two texts.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\nwant: " + wl + "\n got: " + gl
		}
	}
	return "(same lines)"
}

// checkTables checks that every row of every table docgen wrote (a
// "| Name |" header right after a bold title such as **Attributes**) has
// as many unescaped cell separators as its header, outside fenced code
// blocks.
func checkTables(t *testing.T, md []byte) {
	t.Helper()
	fence, prev := "", ""
	want := -1
	for i, line := range strings.Split(string(md), "\n") {
		if fence != "" {
			if openFence(fence+"\n"+line) == "" {
				fence = ""
			}
			continue
		}
		if want < 0 {
			if fence = openFence(line); fence != "" {
				continue
			}
		}
		switch {
		case want < 0 && strings.HasPrefix(line, "| Name |") && isTableTitle(prev):
			want = pipes(line)
		case want >= 0 && line == "":
			want = -1
		case want >= 0:
			if got := pipes(line); got != want {
				t.Errorf("line %d has %d cell separators, the table's header %d: %q", i+1, got, want, line)
			}
		}
		if line != "" {
			prev = line
		}
	}
}

func isTableTitle(s string) bool {
	switch s {
	case "**Attributes**", "**Fields**", "**Parameters**", "**Constructor parameters**":
		return true
	}
	return false
}

// pipes counts the | not escaped by a backslash.
func pipes(line string) int {
	n := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n
}

func TestCell(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain":                 "plain",
		"a | b":                 `a \| b`,
		"`x|y`":                 "`x\\|y`",
		"one\ntwo":              "one<br>two",
		"para\n\npara":          "para<br><br>para",
		"  indented\n   lines ": "indented<br>lines",
		"cr\rlf\r\nend":         "cr<br>lf<br>end",
		"\n\ntrim\n\n":          "trim",
		"":                      "",
	} {
		if got := cell(in); got != want {
			t.Errorf("cell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCodeSpan(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`"x"`:  "`\"x\"`",
		"a`b":  "``a`b``",
		"`":    "`` ` ``",
		"a``b": "```a``b```",
		" x ":  "`  x  `",
		" ":    "` `",
		"a\nb": "`a b`",
		"":     "",
	} {
		if got := codeSpan(in); got != want {
			t.Errorf("codeSpan(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOpenFence(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"no code":                          "",
		"```\ncode\n```":                   "",
		"```sh\ncode":                      "```",
		"````\n```\nstill code":            "````",
		"~~~\n```\n~~~":                    "",
		"~~~~ x\ncode\n~~~":                "~~~~",
		"    ```\nindented code, no fence": "",
		"``` `x` ```":                      "",
		"```\n```   \n```go\nopen":         "```",
	} {
		if got := openFence(in); got != want {
			t.Errorf("openFence(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSignature(t *testing.T) {
	t.Parallel()
	p := func(name string, role ParamRole) ParamInfo { return ParamInfo{Name: name, Role: role} }
	for _, tc := range []struct {
		params []ParamInfo
		want   string
	}{
		{nil, "f()"},
		{[]ParamInfo{p("a", RoleOrdinary), p("b", RoleUnspecified)}, "f(a, b)"},
		{[]ParamInfo{p("a", RoleOrdinary), p("k", RoleKeywordOnly)}, "f(a, *, k)"},
		{[]ParamInfo{p("a", RoleOrdinary), p("k", RoleKeywordOnly), p("args", RoleVarargs), p("kw", RoleKwargs)}, "f(a, *args, k, **kw)"},
		{[]ParamInfo{p("x", RolePositionalOnly), p("a", RoleOrdinary)}, "f(x, /, a)"},
		{[]ParamInfo{p("x", RolePositionalOnly)}, "f(x, /)"},
		{[]ParamInfo{p("kw", RoleKwargs)}, "f(**kw)"},
	} {
		if got := call("f", signature(tc.params)); got != tc.want {
			t.Errorf("signature %v = %q, want %q", tc.params, got, tc.want)
		}
	}
	long := call("a_longer_rule", []string{"name", "first_attribute_with_long_name", "second_attribute_with_long_name"})
	if want := "a_longer_rule(\n    name,\n    first_attribute_with_long_name,\n    second_attribute_with_long_name,\n)"; long != want {
		t.Errorf("long call = %q", long)
	}
}

func TestRenderOptions(t *testing.T) {
	t.Parallel()
	mi := &ModuleInfo{File: "//x:y.bzl", Funcs: []FuncInfo{{Name: "f"}}}
	for _, tc := range []struct {
		opt              Options
		title, load, use string
	}{
		{Options{}, "# //x:y.bzl\n", "Load from `//x:y.bzl`.", `load("//x:y.bzl", "f")`},
		{Options{Title: "My\n API", Repo: "my_rules"}, "# My API\n", "Load from `@my_rules//x:y.bzl`.", `load("@my_rules//x:y.bzl", "f")`},
	} {
		got := string(Render(mi, tc.opt))
		for _, want := range []string{tc.title, tc.load, tc.use} {
			if !strings.Contains(got, want) {
				t.Errorf("Render with %+v lacks %q:\n%s", tc.opt, want, got)
			}
		}
	}
	got := string(Render(&ModuleInfo{Funcs: []FuncInfo{{Name: "f"}}}, Options{}))
	if !strings.Contains(got, "# API\n") || strings.Contains(got, "load(") || strings.Contains(got, "Load from") {
		t.Errorf("no file label: %s", got)
	}
	if got := string(Render(&ModuleInfo{}, Options{})); strings.Contains(got, "Contents") || !strings.HasSuffix(got, "# API\n") {
		t.Errorf("empty module: %q", got)
	}
}

func TestValidRepoName(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"rules_portable": true, "a.b-c+d~e": true, "R1": true,
		"": false, "_x": false, "1x": false, "a b": false, "a/b": false, "a\"": false,
	} {
		if got := ValidRepoName(s); got != want {
			t.Errorf("ValidRepoName(%q) = %v", s, got)
		}
	}
}
