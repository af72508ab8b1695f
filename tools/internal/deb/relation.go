package deb

import (
	"fmt"
	"strings"
)

// Op is the comparison in a versioned relation such as "libc6 (>= 2.36)".
type Op int

const (
	// OpAny means the relation has no version constraint.
	OpAny Op = iota
	OpLess
	OpLessEq
	OpEq
	OpGreaterEq
	OpGreater
)

func (o Op) String() string {
	switch o {
	case OpAny:
		return ""
	case OpLess:
		return "<<"
	case OpLessEq:
		return "<="
	case OpEq:
		return "="
	case OpGreaterEq:
		return ">="
	case OpGreater:
		return ">>"
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// Satisfied reports whether a version that compares to the constraint's
// version as cmp (the sign of CompareVersions(have, want)) meets o.
func (o Op) Satisfied(cmp int) bool {
	switch o {
	case OpAny:
		return true
	case OpLess:
		return cmp < 0
	case OpLessEq:
		return cmp <= 0
	case OpEq:
		return cmp == 0
	case OpGreaterEq:
		return cmp >= 0
	case OpGreater:
		return cmp > 0
	}
	return false
}

// Relation is one package reference in a relationship field.
type Relation struct {
	Name string
	// ArchQual is the qualifier after ':' ("any", "native" or an
	// architecture name), or "".
	ArchQual string
	Op       Op
	Version  Version // meaningful when Op != OpAny
	// Arches is the architecture restriction list in brackets, as written
	// ("amd64", "!i386"); empty when there is none. Binary package fields
	// do not carry one, source package fields may.
	Arches []string
}

func (r Relation) String() string {
	s := r.Name
	if r.ArchQual != "" {
		s += ":" + r.ArchQual
	}
	if r.Op != OpAny {
		s += " (" + r.Op.String() + " " + r.Version.String() + ")"
	}
	if len(r.Arches) > 0 {
		s += " [" + strings.Join(r.Arches, " ") + "]"
	}
	return s
}

// AppliesTo reports whether r's architecture restriction list admits arch.
func (r Relation) AppliesTo(arch string) bool {
	if len(r.Arches) == 0 {
		return true
	}
	negated := strings.HasPrefix(r.Arches[0], "!")
	for _, a := range r.Arches {
		if strings.TrimPrefix(a, "!") == arch {
			return !negated
		}
	}
	return negated
}

// Alternatives is a group of relations separated by '|': any one will do.
type Alternatives []Relation

func (a Alternatives) String() string {
	parts := make([]string, len(a))
	for i, r := range a {
		parts[i] = r.String()
	}
	return strings.Join(parts, " | ")
}

// ParseRelations parses a relationship field such as Depends, Pre-Depends,
// Provides or Breaks: comma-separated groups of '|'-separated relations.
// Build profiles ("<!nocheck>") are accepted and dropped.
func ParseRelations(field string) ([]Alternatives, error) {
	var out []Alternatives
	field = strings.TrimSpace(field)
	if field == "" {
		return nil, nil
	}
	for _, group := range strings.Split(field, ",") {
		group = strings.TrimSpace(group)
		if group == "" {
			// Tolerate a trailing comma, which dpkg also accepts.
			continue
		}
		var alts Alternatives
		for _, one := range strings.Split(group, "|") {
			r, err := parseRelation(strings.TrimSpace(one))
			if err != nil {
				return nil, fmt.Errorf("relation %q: %w", strings.TrimSpace(one), err)
			}
			alts = append(alts, r)
		}
		out = append(out, alts)
	}
	return out, nil
}

func parseRelation(s string) (Relation, error) {
	var r Relation
	i := 0
	for i < len(s) && isNameChar(s[i]) {
		i++
	}
	name := s[:i]
	if err := checkPackageName(name); err != nil {
		return r, err
	}
	r.Name = name
	s = s[i:]
	if strings.HasPrefix(s, ":") {
		j := 1
		for j < len(s) && (isAlnum(s[j]) || s[j] == '-') {
			j++
		}
		r.ArchQual = s[1:j]
		if r.ArchQual == "" {
			return r, fmt.Errorf("empty architecture qualifier after ':'")
		}
		s = s[j:]
	}
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "(") {
		end := strings.IndexByte(s, ')')
		if end < 0 {
			return r, fmt.Errorf("missing ')'")
		}
		inner := strings.TrimSpace(s[1:end])
		s = strings.TrimSpace(s[end+1:])
		var opLen int
		switch {
		case strings.HasPrefix(inner, "<<"):
			r.Op, opLen = OpLess, 2
		case strings.HasPrefix(inner, "<="):
			r.Op, opLen = OpLessEq, 2
		case strings.HasPrefix(inner, ">="):
			r.Op, opLen = OpGreaterEq, 2
		case strings.HasPrefix(inner, ">>"):
			r.Op, opLen = OpGreater, 2
		case strings.HasPrefix(inner, "="):
			r.Op, opLen = OpEq, 1
		case strings.HasPrefix(inner, "<"):
			// Obsolete form meaning <=, still accepted by dpkg.
			r.Op, opLen = OpLessEq, 1
		case strings.HasPrefix(inner, ">"):
			// Obsolete form meaning >=.
			r.Op, opLen = OpGreaterEq, 1
		default:
			return r, fmt.Errorf("unknown version operator in %q", inner)
		}
		v, err := ParseVersion(strings.TrimSpace(inner[opLen:]))
		if err != nil {
			return r, err
		}
		r.Version = v
	}
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return r, fmt.Errorf("missing ']'")
		}
		r.Arches = strings.Fields(s[1:end])
		if len(r.Arches) == 0 {
			return r, fmt.Errorf("empty architecture list")
		}
		neg := strings.HasPrefix(r.Arches[0], "!")
		for _, a := range r.Arches {
			if strings.HasPrefix(a, "!") != neg {
				return r, fmt.Errorf("architecture list %q mixes negated and plain entries", s[:end+1])
			}
		}
		s = strings.TrimSpace(s[end+1:])
	}
	for strings.HasPrefix(s, "<") {
		end := strings.IndexByte(s, '>')
		if end < 0 {
			return r, fmt.Errorf("missing '>'")
		}
		s = strings.TrimSpace(s[end+1:])
	}
	if s != "" {
		return r, fmt.Errorf("unexpected %q", s)
	}
	return r, nil
}

func isNameChar(c byte) bool {
	return (c >= 'a' && c <= 'z') || isDigit(c) || c == '+' || c == '-' || c == '.'
}

// checkPackageName applies policy §5.6.1: lower case letters, digits, '+',
// '-' and '.', at least two characters, starting with an alphanumeric.
func checkPackageName(name string) error {
	if len(name) < 2 {
		return fmt.Errorf("package name %q is shorter than two characters", name)
	}
	if !isAlnum(name[0]) {
		return fmt.Errorf("package name %q must start with a letter or digit", name)
	}
	for i := 0; i < len(name); i++ {
		if !isNameChar(name[i]) {
			return fmt.Errorf("package name %q holds %q", name, name[i])
		}
	}
	return nil
}
