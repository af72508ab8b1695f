package docgen

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestDecodeAll(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "all.textproto"))
	if err != nil {
		t.Fatal(err)
	}
	mi, err := ParseModuleInfo("all.textproto", data)
	if err != nil {
		t.Fatal(err)
	}
	if mi.File != "//pkg:all.bzl" || mi.Docstring == "" {
		t.Errorf("file %q, docstring %q", mi.File, mi.Docstring)
	}
	if len(mi.Rules) != 3 || len(mi.Macros) != 1 || len(mi.Providers) != 2 || len(mi.Funcs) != 2 ||
		len(mi.Aspects) != 1 || len(mi.Extensions) != 1 || len(mi.RepoRules) != 1 {
		t.Fatalf("counts: %d rules, %d macros, %d providers, %d funcs, %d aspects, %d extensions, %d repo rules",
			len(mi.Rules), len(mi.Macros), len(mi.Providers), len(mi.Funcs), len(mi.Aspects), len(mi.Extensions), len(mi.RepoRules))
	}
	r := mi.Rules[0]
	if r.Name != "my_rule" || !r.Executable || r.Test || r.Origin != (OriginKey{"_my_rule", "//pkg/private:rule.bzl"}) {
		t.Errorf("rule: %+v", r)
	}
	if got := r.Attrs[1].Providers; !reflect.DeepEqual(got, []ProviderNameGroup{
		{Names: []string{"MyInfo", "OtherInfo"}, Origins: []OriginKey{{"MyInfo", "//pkg:all.bzl"}, {"OtherInfo", "//other:defs.bzl"}}},
		{Names: []string{"CcInfo"}, Origins: []OriginKey{{"CcInfo", "<native>"}}},
	}) {
		t.Errorf("srcs providers: %+v", got)
	}
	if a := r.Attrs[2]; a.Type != AttrString || !a.Nonconfigurable || a.Default != `"fast"` || a.Doc != "Single-quoted 'doc' with \"quotes\" and a tab:\tend." {
		t.Errorf("mode attribute (numeric enum, single quotes): %+v", a)
	}
	var types []AttributeType
	for _, a := range r.Attrs {
		types = append(types, a.Type)
	}
	if want := []AttributeType{AttrName, AttrLabelList, AttrString, AttrInt, AttrString, AttrStringList, AttrIntList, AttrBoolean,
		AttrLabelStringDict, AttrStringDict, AttrStringListDict, AttrOutput, AttrOutputList, AttrLabelDictUnary, AttrLabelListDict, AttrLabel}; !reflect.DeepEqual(types, want) {
		t.Errorf("attribute types %v, want %v", types, want)
	}
	fn := mi.Funcs[0]
	if fn.Returns != "A struct." || fn.Deprecated == nil || fn.Deprecated.Doc != "Use `helper2`." || len(fn.Params) != 5 || fn.Params[4].Role != RoleKwargs {
		t.Errorf("func: %+v", fn)
	}
	if p := mi.Funcs[1].Params; len(p) != 2 || p[1].Default != `"\\"` || p[1].Role != RoleKeywordOnly {
		t.Errorf("list-syntax params: %+v", p)
	}
	if p := mi.Providers[1]; p.Init == nil || p.Init.Name != "WithInit" || len(p.Init.Params) != 2 {
		t.Errorf("provider init: %+v", p)
	}
	if e := mi.Extensions[0]; len(e.TagClasses) != 2 || e.TagClasses[0].Attrs[1].Doc != `e.g. "1.2".` || e.Origin.File != "//pkg:all.bzl" {
		t.Errorf("extension: %+v", e)
	}
	if rr := mi.RepoRules[0]; !reflect.DeepEqual(rr.Environ, []string{"MY_MIRROR", "HOME"}) {
		t.Errorf("repo rule environ: %v", rr.Environ)
	}
	if a := mi.Aspects[0]; !reflect.DeepEqual(a.AspectAttrs, []string{"deps", "runtime_deps"}) {
		t.Errorf("aspect attrs: %v", a.AspectAttrs)
	}
	if !mi.Macros[0].Finalizer || !mi.Macros[0].Attrs[1].Native {
		t.Errorf("macro: %+v", mi.Macros[0])
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
	}{
		{"rule_infos {}", `f:1:1: ModuleInfo has no field "rule_infos"; if a newer Bazel added it, teach tools/internal/docgen about it`},
		{"rule_info { rule_name: \"r\" color: 1 }", `f:1:28: RuleInfo has no field "color"; if a newer Bazel added it, teach tools/internal/docgen about it`},
		{"file: \"a\"\nfile: \"b\"", `f:2:1: ModuleInfo.file is not repeated but given again (first at 1:1)`},
		{"module_docstring: 1", `f:1:19: field "module_docstring" wants a string, found a number`},
		{"rule_info: \"r\"", `f:1:12: field "rule_info" wants a message, found a string`},
		{"rule_info { rule_name: \"r\" test: yes }", `f:1:34: field "test" wants true or false, found identifier "yes"`},
		{"rule_info { rule_name: \"r\" attribute { name: \"a\" type: FANCY } }", `f:1:56: field "type": unknown value FANCY; if a newer Bazel added it, teach tools/internal/docgen about it`},
		{"rule_info { rule_name: \"r\" attribute { name: \"a\" type: 16 } }", `f:1:56: field "type": unknown value 16; if a newer Bazel added it, teach tools/internal/docgen about it`},
		{"rule_info { rule_name: \"r\" attribute { name: \"a\" type: \"LABEL\" } }", `f:1:56: field "type" wants an enum value, found a string`},
		{"module_docstring: \"\\377\"", `f:1:19: field "module_docstring" is not valid UTF-8`},
		{"rule_info { rule_name: \"my rule\" }", `f:1:24: field "rule_name" is "my rule", not a Starlark identifier`},
		{"rule_info { rule_name: \"a.\" }", `f:1:24: field "rule_name" is "a.", not a Starlark identifier`},
		{"rule_info { rule_name: \"r\" attribute { name: \"a.b\" } }", `f:1:46: field "name" is "a.b", not a Starlark identifier`},
		{"rule_info { doc_string: \"no name\" }", `f:1:11: rule_info has no name`},
		{"rule_info { rule_name: \"r\" attribute { doc_string: \"x\" } }", `f:1:38: attribute has no name`},
		{"provider_info { provider_name: \"P\" field_info { } }", `f:1:47: field_info has no name`},
		{"func_info { function_name: \"f\" parameter { role: PARAM_ROLE_ORDINARY } }", `f:1:42: parameter has no name`},
		{"module_extension_info { extension_name: \"e\" tag_class {} }", `f:1:55: tag_class has no name`},
		{"file: \"//a:b\\\".bzl\"", `f:1:7: field "file" is "//a:b\".bzl", not a label`},
		{"file: \"//a:b`.bzl\"", "f:1:7: field \"file\" is \"//a:b`.bzl\", not a label"},
		{"func_info { function_name: \"f\" deprecated { doc_string: \"x\" } deprecated {} }", `f:1:63: StarlarkFunctionInfo.deprecated is not repeated but given again (first at 1:32)`},
		{"func_info { function_name: \"f\" return { doc: \"x\" } }", `f:1:41: FunctionReturnInfo has no field "doc"; if a newer Bazel added it, teach tools/internal/docgen about it`},
	} {
		_, err := ParseModuleInfo("f", []byte(tc.in))
		got := "<nil>"
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("ParseModuleInfo(%q)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func TestIsName(t *testing.T) {
	t.Parallel()
	for s, want := range map[string][2]bool{ // {plain, dotted}
		"a": {true, true}, "_a1": {true, true}, "A_b": {true, true}, "a.b": {false, true}, "a.b.c": {false, true},
		"": {false, false}, "1a": {false, false}, "a.": {false, false}, ".a": {false, false}, "a..b": {false, false},
		"a.1": {false, false}, "a-b": {false, false}, "é": {false, false},
	} {
		if got := [2]bool{isName(s, false), isName(s, true)}; got != want {
			t.Errorf("isName(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestEnumStrings(t *testing.T) {
	t.Parallel()
	if AttrLabelList.String() != "LABEL_LIST" || AttrLabelListDict.String() != "LABEL_LIST_DICT" || AttributeType(99).String() != "AttributeType(99)" {
		t.Error("AttributeType.String")
	}
	if RoleKwargs.String() != "PARAM_ROLE_KWARGS" || ParamRole(-1).String() != "ParamRole(-1)" {
		t.Error("ParamRole.String")
	}
	for tp := AttrName; tp <= AttrLabelListDict; tp++ {
		if tp.Describe() == "unknown" {
			t.Errorf("%v has no description", tp)
		}
	}
}
