package docgen

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// AttributeType is stardoc_output.AttributeType: the kind of a rule, macro,
// repository rule or tag class attribute.
type AttributeType int32

// The attribute types of stardoc_output.proto, with the same numbers.
const (
	AttrUnknown AttributeType = iota
	AttrName
	AttrInt
	AttrLabel
	AttrString
	AttrStringList
	AttrIntList
	AttrLabelList
	AttrBoolean
	AttrLabelStringDict
	AttrStringDict
	AttrStringListDict
	AttrOutput
	AttrOutputList
	AttrLabelDictUnary
	AttrLabelListDict
)

// attributeTypeNames are the enum value names as written in the text
// format, indexed by number.
func attributeTypeNames() []string {
	return []string{
		"UNKNOWN", "NAME", "INT", "LABEL", "STRING", "STRING_LIST", "INT_LIST",
		"LABEL_LIST", "BOOLEAN", "LABEL_STRING_DICT", "STRING_DICT",
		"STRING_LIST_DICT", "OUTPUT", "OUTPUT_LIST", "LABEL_DICT_UNARY",
		"LABEL_LIST_DICT",
	}
}

// String returns the enum value's proto name, e.g. "LABEL_LIST".
func (t AttributeType) String() string {
	if names := attributeTypeNames(); t >= 0 && int(t) < len(names) {
		return names[t]
	}
	return "AttributeType(" + strconv.Itoa(int(t)) + ")"
}

// Describe returns the type as the docs show it, e.g. "list of labels".
func (t AttributeType) Describe() string {
	switch t {
	case AttrName:
		return "name"
	case AttrInt:
		return "integer"
	case AttrLabel:
		return "label"
	case AttrString:
		return "string"
	case AttrStringList:
		return "list of strings"
	case AttrIntList:
		return "list of integers"
	case AttrLabelList:
		return "list of labels"
	case AttrBoolean:
		return "boolean"
	case AttrLabelStringDict:
		return "dictionary: label → string"
	case AttrStringDict:
		return "dictionary: string → string"
	case AttrStringListDict:
		return "dictionary: string → list of strings"
	case AttrOutput:
		return "output file"
	case AttrOutputList:
		return "list of output files"
	case AttrLabelDictUnary:
		return "dictionary: string → label"
	case AttrLabelListDict:
		return "dictionary: string → list of labels"
	}
	return "unknown"
}

// ParamRole is stardoc_output.FunctionParamRole: how a function parameter
// is passed.
type ParamRole int32

// The parameter roles of stardoc_output.proto, with the same numbers.
const (
	RoleUnspecified ParamRole = iota
	RoleOrdinary
	RolePositionalOnly
	RoleKeywordOnly
	RoleVarargs
	RoleKwargs
)

func paramRoleNames() []string {
	return []string{
		"PARAM_ROLE_UNSPECIFIED", "PARAM_ROLE_ORDINARY", "PARAM_ROLE_POSITIONAL_ONLY",
		"PARAM_ROLE_KEYWORD_ONLY", "PARAM_ROLE_VARARGS", "PARAM_ROLE_KWARGS",
	}
}

// String returns the enum value's proto name, e.g. "PARAM_ROLE_VARARGS".
func (r ParamRole) String() string {
	if names := paramRoleNames(); r >= 0 && int(r) < len(names) {
		return names[r]
	}
	return "ParamRole(" + strconv.Itoa(int(r)) + ")"
}

// ModuleInfo is the documentation of one .bzl file (stardoc_output.ModuleInfo).
type ModuleInfo struct {
	File       string // display form of the file's label, e.g. //rules:defs.bzl
	Docstring  string
	Rules      []RuleInfo
	Providers  []ProviderInfo
	Funcs      []FuncInfo
	Aspects    []AspectInfo
	Extensions []ExtensionInfo
	RepoRules  []RepoRuleInfo
	Macros     []MacroInfo
}

// OriginKey names where an entity was first declared.
type OriginKey struct {
	Name, File string
}

// ProviderNameGroup is a set of providers, all of which are meant.
type ProviderNameGroup struct {
	Names   []string
	Origins []OriginKey
}

// AttributeInfo documents one attribute.
type AttributeInfo struct {
	Name            string
	Doc             string
	Type            AttributeType
	Mandatory       bool
	Providers       []ProviderNameGroup // any one group satisfies the attribute
	Default         string              // Starlark form of the default value
	Nonconfigurable bool
	Native          bool
}

// RuleInfo documents a rule.
type RuleInfo struct {
	Name       string
	Doc        string
	Attrs      []AttributeInfo
	Origin     OriginKey
	Advertised ProviderNameGroup
	Test       bool
	Executable bool
}

// MacroInfo documents a symbolic macro.
type MacroInfo struct {
	Name      string
	Doc       string
	Attrs     []AttributeInfo
	Origin    OriginKey
	Finalizer bool
}

// ParamInfo documents one function parameter.
type ParamInfo struct {
	Name      string
	Doc       string
	Default   string
	Mandatory bool
	Role      ParamRole
}

// FuncInfo documents a Starlark function.
type FuncInfo struct {
	Name       string
	Params     []ParamInfo
	Doc        string
	Returns    string
	Deprecated *Deprecation // nil unless the docstring has a Deprecated: section
	Origin     OriginKey
}

// Deprecation is a function's deprecation notice.
type Deprecation struct {
	Doc string
}

// FieldInfo documents one provider field.
type FieldInfo struct {
	Name, Doc string
}

// ProviderInfo documents a provider.
type ProviderInfo struct {
	Name   string
	Doc    string
	Fields []FieldInfo
	Origin OriginKey
	Init   *FuncInfo // the provider's init callback, if any
}

// AspectInfo documents an aspect.
type AspectInfo struct {
	Name        string
	Doc         string
	AspectAttrs []string // rule attributes the aspect propagates along
	Attrs       []AttributeInfo
	Origin      OriginKey
}

// ExtensionInfo documents a module extension.
type ExtensionInfo struct {
	Name       string
	Doc        string
	TagClasses []TagClassInfo
	Origin     OriginKey
}

// TagClassInfo documents one tag class of a module extension.
type TagClassInfo struct {
	Name  string
	Doc   string
	Attrs []AttributeInfo
}

// RepoRuleInfo documents a repository rule.
type RepoRuleInfo struct {
	Name    string
	Doc     string
	Attrs   []AttributeInfo
	Environ []string
	Origin  OriginKey
}

// ParseModuleInfo parses data, the text-format ModuleInfo that
// starlark_doc_extract writes, and decodes it. file names the input in
// errors.
func ParseModuleInfo(file string, data []byte) (*ModuleInfo, error) {
	m, err := Parse(file, data)
	if err != nil {
		return nil, err
	}
	return Decode(file, m)
}

// Decode checks a parsed tree against the ModuleInfo schema and returns it
// typed. Unknown fields, values of the wrong kind, a singular field given
// twice, unknown enum values, invalid UTF-8 in strings and names that are
// not Starlark identifiers are errors: docs must not silently lose content.
func Decode(file string, m *Message) (*ModuleInfo, error) {
	d := &decoder{file: file}
	mi := &ModuleInfo{}
	err := d.walk(m, "ModuleInfo", map[string]spec{
		"rule_info": {true, func(f *Field) error {
			mi.Rules = append(mi.Rules, RuleInfo{})
			return d.rule(f, &mi.Rules[len(mi.Rules)-1])
		}},
		"provider_info": {true, func(f *Field) error {
			mi.Providers = append(mi.Providers, ProviderInfo{})
			return d.provider(f, &mi.Providers[len(mi.Providers)-1])
		}},
		"func_info": {true, func(f *Field) error {
			mi.Funcs = append(mi.Funcs, FuncInfo{})
			return d.function(f, &mi.Funcs[len(mi.Funcs)-1])
		}},
		"aspect_info": {true, func(f *Field) error {
			mi.Aspects = append(mi.Aspects, AspectInfo{})
			return d.aspect(f, &mi.Aspects[len(mi.Aspects)-1])
		}},
		"module_docstring": {false, d.str(&mi.Docstring)},
		"file":             {false, d.label(&mi.File)},
		"module_extension_info": {true, func(f *Field) error {
			mi.Extensions = append(mi.Extensions, ExtensionInfo{})
			return d.extension(f, &mi.Extensions[len(mi.Extensions)-1])
		}},
		"repository_rule_info": {true, func(f *Field) error {
			mi.RepoRules = append(mi.RepoRules, RepoRuleInfo{})
			return d.repoRule(f, &mi.RepoRules[len(mi.RepoRules)-1])
		}},
		"macro_info": {true, func(f *Field) error {
			mi.Macros = append(mi.Macros, MacroInfo{})
			return d.macro(f, &mi.Macros[len(mi.Macros)-1])
		}},
	})
	if err != nil {
		return nil, err
	}
	return mi, nil
}

type decoder struct {
	file string
}

// spec says how to decode one field of a message.
type spec struct {
	repeated bool
	decode   func(*Field) error
}

func (d *decoder) errf(pos Pos, format string, args ...any) error {
	return &Error{File: d.file, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// walk decodes every field of m, a msgName, with specs.
func (d *decoder) walk(m *Message, msgName string, specs map[string]spec) error {
	var seen map[string]Pos
	for _, f := range m.Fields {
		s, ok := specs[f.Name]
		if !ok {
			return d.errf(f.Pos, "%s has no field %q; if a newer Bazel added it, teach tools/internal/docgen about it", msgName, f.Name)
		}
		if !s.repeated {
			if prev, dup := seen[f.Name]; dup {
				return d.errf(f.Pos, "%s.%s is not repeated but given again (first at %s)", msgName, f.Name, prev)
			}
			if seen == nil {
				seen = map[string]Pos{}
			}
			seen[f.Name] = f.Pos
		}
		if err := s.decode(f); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) want(f *Field, k Kind) error {
	if f.Kind != k {
		return d.errf(f.ValuePos, "field %q wants a %s, found a %s", f.Name, k, f.Kind)
	}
	return nil
}

// str decodes a string field into dst.
func (d *decoder) str(dst *string) func(*Field) error {
	return func(f *Field) error {
		if err := d.want(f, KindString); err != nil {
			return err
		}
		if !utf8.ValidString(f.Text) {
			return d.errf(f.ValuePos, "field %q is not valid UTF-8", f.Name)
		}
		*dst = f.Text
		return nil
	}
}

// appendStr decodes a repeated string field onto dst.
func (d *decoder) appendStr(dst *[]string) func(*Field) error {
	return func(f *Field) error {
		var s string
		if err := d.str(&s)(f); err != nil {
			return err
		}
		*dst = append(*dst, s)
		return nil
	}
}

// name decodes a string field that must be a Starlark identifier, or
// dotted identifiers when dotted is set (names nested in structs).
func (d *decoder) name(dst *string, dotted bool) func(*Field) error {
	return func(f *Field) error {
		var s string
		if err := d.str(&s)(f); err != nil {
			return err
		}
		if !isName(s, dotted) {
			return d.errf(f.ValuePos, "field %q is %q, not a Starlark identifier", f.Name, s)
		}
		*dst = s
		return nil
	}
}

// isName reports whether s is a Starlark identifier (or, when dotted,
// identifiers joined by dots).
func isName(s string, dotted bool) bool {
	if s == "" {
		return false
	}
	start := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isLetter(c):
			start = false
		case isDigit(c) && !start:
		case c == '.' && dotted && !start && i < len(s)-1:
			start = true
		default:
			return false
		}
	}
	return true
}

// label decodes the module's label, which the docs quote in Starlark code:
// it may not hold quotes, backslashes, backticks or control characters.
func (d *decoder) label(dst *string) func(*Field) error {
	return func(f *Field) error {
		var s string
		if err := d.str(&s)(f); err != nil {
			return err
		}
		if strings.IndexFunc(s, func(r rune) bool {
			return r < 0x20 || r == 0x7f || r == '"' || r == '\\' || r == '`'
		}) >= 0 {
			return d.errf(f.ValuePos, "field %q is %q, not a label", f.Name, s)
		}
		*dst = s
		return nil
	}
}

func (d *decoder) boolean(dst *bool) func(*Field) error {
	return func(f *Field) error {
		switch {
		case f.Kind == KindIdent && (f.Text == "true" || f.Text == "True" || f.Text == "t"):
			*dst = true
		case f.Kind == KindIdent && (f.Text == "false" || f.Text == "False" || f.Text == "f"):
			*dst = false
		case f.Kind == KindNumber && (f.Text == "1" || f.Text == "0"):
			*dst = f.Text == "1"
		default:
			return d.errf(f.ValuePos, "field %q wants true or false, found %s %q", f.Name, f.Kind, f.Text)
		}
		return nil
	}
}

// enum decodes an enum field given by name or number into *dst.
func (d *decoder) enum(names []string, dst *int32) func(*Field) error {
	return func(f *Field) error {
		switch f.Kind {
		case KindIdent:
			for i, n := range names {
				if n == f.Text {
					*dst = int32(i)
					return nil
				}
			}
		case KindNumber:
			if n, err := strconv.Atoi(f.Text); err == nil && n >= 0 && n < len(names) {
				*dst = int32(n)
				return nil
			}
		default:
			return d.errf(f.ValuePos, "field %q wants an enum value, found a %s", f.Name, f.Kind)
		}
		return d.errf(f.ValuePos, "field %q: unknown value %s; if a newer Bazel added it, teach tools/internal/docgen about it", f.Name, f.Text)
	}
}

// sub decodes a singular message field with specs.
func (d *decoder) sub(msgName string, specs func() map[string]spec) func(*Field) error {
	return func(f *Field) error {
		if err := d.want(f, KindMessage); err != nil {
			return err
		}
		return d.walk(f.Msg, msgName, specs())
	}
}

func (d *decoder) origin(o *OriginKey) func(*Field) error {
	return d.sub("OriginKey", func() map[string]spec {
		return map[string]spec{
			"name": {false, d.str(&o.Name)},
			"file": {false, d.str(&o.File)},
		}
	})
}

func (d *decoder) providerGroup(g *ProviderNameGroup) func(*Field) error {
	return d.sub("ProviderNameGroup", func() map[string]spec {
		return map[string]spec{
			"provider_name": {true, d.appendStr(&g.Names)},
			"origin_key": {true, func(f *Field) error {
				g.Origins = append(g.Origins, OriginKey{})
				return d.origin(&g.Origins[len(g.Origins)-1])(f)
			}},
		}
	})
}

func (d *decoder) attributes(dst *[]AttributeInfo) func(*Field) error {
	return func(f *Field) error {
		*dst = append(*dst, AttributeInfo{})
		a := &(*dst)[len(*dst)-1]
		var typ int32
		err := d.sub("AttributeInfo", func() map[string]spec {
			return map[string]spec{
				"name":       {false, d.name(&a.Name, false)},
				"doc_string": {false, d.str(&a.Doc)},
				"type":       {false, d.enum(attributeTypeNames(), &typ)},
				"mandatory":  {false, d.boolean(&a.Mandatory)},
				"provider_name_group": {true, func(f *Field) error {
					a.Providers = append(a.Providers, ProviderNameGroup{})
					return d.providerGroup(&a.Providers[len(a.Providers)-1])(f)
				}},
				"default_value":    {false, d.str(&a.Default)},
				"nonconfigurable":  {false, d.boolean(&a.Nonconfigurable)},
				"natively_defined": {false, d.boolean(&a.Native)},
			}
		})(f)
		a.Type = AttributeType(typ)
		if err == nil && a.Name == "" {
			return d.errf(f.ValuePos, "attribute has no name")
		}
		return err
	}
}

// named checks that a decoded entity got its name.
func (d *decoder) named(f *Field, what, name string, err error) error {
	if err == nil && name == "" {
		return d.errf(f.ValuePos, "%s has no name", what)
	}
	return err
}

func (d *decoder) rule(f *Field, r *RuleInfo) error {
	err := d.sub("RuleInfo", func() map[string]spec {
		return map[string]spec{
			"rule_name":            {false, d.name(&r.Name, true)},
			"doc_string":           {false, d.str(&r.Doc)},
			"attribute":            {true, d.attributes(&r.Attrs)},
			"origin_key":           {false, d.origin(&r.Origin)},
			"advertised_providers": {false, d.providerGroup(&r.Advertised)},
			"test":                 {false, d.boolean(&r.Test)},
			"executable":           {false, d.boolean(&r.Executable)},
		}
	})(f)
	return d.named(f, "rule_info", r.Name, err)
}

func (d *decoder) macro(f *Field, m *MacroInfo) error {
	err := d.sub("MacroInfo", func() map[string]spec {
		return map[string]spec{
			"macro_name": {false, d.name(&m.Name, true)},
			"doc_string": {false, d.str(&m.Doc)},
			"attribute":  {true, d.attributes(&m.Attrs)},
			"origin_key": {false, d.origin(&m.Origin)},
			"finalizer":  {false, d.boolean(&m.Finalizer)},
		}
	})(f)
	return d.named(f, "macro_info", m.Name, err)
}

func (d *decoder) function(f *Field, fn *FuncInfo) error {
	err := d.sub("StarlarkFunctionInfo", func() map[string]spec {
		return map[string]spec{
			"function_name": {false, d.name(&fn.Name, true)},
			"parameter": {true, func(f *Field) error {
				fn.Params = append(fn.Params, ParamInfo{})
				p := &fn.Params[len(fn.Params)-1]
				var role int32
				err := d.sub("FunctionParamInfo", func() map[string]spec {
					return map[string]spec{
						"name":          {false, d.name(&p.Name, false)},
						"doc_string":    {false, d.str(&p.Doc)},
						"default_value": {false, d.str(&p.Default)},
						"mandatory":     {false, d.boolean(&p.Mandatory)},
						"role":          {false, d.enum(paramRoleNames(), &role)},
					}
				})(f)
				p.Role = ParamRole(role)
				return d.named(f, "parameter", p.Name, err)
			}},
			"doc_string": {false, d.str(&fn.Doc)},
			"return": {false, d.sub("FunctionReturnInfo", func() map[string]spec {
				return map[string]spec{"doc_string": {false, d.str(&fn.Returns)}}
			})},
			"deprecated": {false, func(f *Field) error {
				fn.Deprecated = &Deprecation{}
				return d.sub("FunctionDeprecationInfo", func() map[string]spec {
					return map[string]spec{"doc_string": {false, d.str(&fn.Deprecated.Doc)}}
				})(f)
			}},
			"origin_key": {false, d.origin(&fn.Origin)},
		}
	})(f)
	return d.named(f, "func_info", fn.Name, err)
}

func (d *decoder) provider(f *Field, p *ProviderInfo) error {
	err := d.sub("ProviderInfo", func() map[string]spec {
		return map[string]spec{
			"provider_name": {false, d.name(&p.Name, true)},
			"doc_string":    {false, d.str(&p.Doc)},
			"field_info": {true, func(f *Field) error {
				p.Fields = append(p.Fields, FieldInfo{})
				fi := &p.Fields[len(p.Fields)-1]
				err := d.sub("ProviderFieldInfo", func() map[string]spec {
					return map[string]spec{
						"name":       {false, d.name(&fi.Name, false)},
						"doc_string": {false, d.str(&fi.Doc)},
					}
				})(f)
				return d.named(f, "field_info", fi.Name, err)
			}},
			"origin_key": {false, d.origin(&p.Origin)},
			"init": {false, func(f *Field) error {
				p.Init = &FuncInfo{}
				return d.function(f, p.Init)
			}},
		}
	})(f)
	return d.named(f, "provider_info", p.Name, err)
}

func (d *decoder) aspect(f *Field, a *AspectInfo) error {
	err := d.sub("AspectInfo", func() map[string]spec {
		return map[string]spec{
			"aspect_name":      {false, d.name(&a.Name, true)},
			"doc_string":       {false, d.str(&a.Doc)},
			"aspect_attribute": {true, d.appendStr(&a.AspectAttrs)},
			"attribute":        {true, d.attributes(&a.Attrs)},
			"origin_key":       {false, d.origin(&a.Origin)},
		}
	})(f)
	return d.named(f, "aspect_info", a.Name, err)
}

func (d *decoder) extension(f *Field, e *ExtensionInfo) error {
	err := d.sub("ModuleExtensionInfo", func() map[string]spec {
		return map[string]spec{
			"extension_name": {false, d.name(&e.Name, true)},
			"doc_string":     {false, d.str(&e.Doc)},
			"tag_class": {true, func(f *Field) error {
				e.TagClasses = append(e.TagClasses, TagClassInfo{})
				tc := &e.TagClasses[len(e.TagClasses)-1]
				err := d.sub("ModuleExtensionTagClassInfo", func() map[string]spec {
					return map[string]spec{
						"tag_name":   {false, d.name(&tc.Name, false)},
						"doc_string": {false, d.str(&tc.Doc)},
						"attribute":  {true, d.attributes(&tc.Attrs)},
					}
				})(f)
				return d.named(f, "tag_class", tc.Name, err)
			}},
			"origin_key": {false, d.origin(&e.Origin)},
		}
	})(f)
	return d.named(f, "module_extension_info", e.Name, err)
}

func (d *decoder) repoRule(f *Field, r *RepoRuleInfo) error {
	err := d.sub("RepositoryRuleInfo", func() map[string]spec {
		return map[string]spec{
			"rule_name":  {false, d.name(&r.Name, true)},
			"doc_string": {false, d.str(&r.Doc)},
			"attribute":  {true, d.attributes(&r.Attrs)},
			"environ":    {true, d.appendStr(&r.Environ)},
			"origin_key": {false, d.origin(&r.Origin)},
		}
	})(f)
	return d.named(f, "repository_rule_info", r.Name, err)
}
