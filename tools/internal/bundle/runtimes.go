package bundle

import (
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
)

var (
	libPython = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^libpython(3\.[0-9]+)\.so`) })
	libPerl   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^libperl\.so\.(5\.[0-9]+)`) })
	python3   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^python(3(\.[0-9]+)?)?$`) })
)

// runtimeData looks at the closure for language runtimes whose standard
// library lives outside it, and adds it or says what to add:
//   - libpython3.X (gdb, vim, ... embed Python): the root's
//     /usr/lib/python3.X is added as lib/python3.X, where the embedded
//     interpreter finds it (it searches upwards from the program for
//     lib/python3.X/os.py); without it, it does not start.
//   - a python3 program (Debian links libpython into it) without a
//     lib/python3.X: a warning naming the --add.
//   - libperl: perl finds its modules only at the absolute paths it was
//     built with, so a warning says how to carry them and point PERL5LIB
//     at them.
//   - a JVM (libjli.so, libjvm.so) without lib/modules: a warning naming
//     the --add of its home's lib/ and conf/.
func (b *builder) runtimeData() error {
	var libs []string
	for dest := range b.plan.items {
		if path.Dir(dest) == "lib" {
			libs = append(libs, dest)
		}
	}
	slices.Sort(libs)
	hasPython := func() bool {
		for dest := range b.plan.items {
			if strings.HasPrefix(dest, "lib/python3.") && !strings.Contains(dest[len("lib/"):], "/") {
				return true
			}
		}
		return false
	}
	warned := map[string]bool{}
	for _, dest := range libs {
		name := path.Base(dest)
		it := b.plan.items[dest]
		switch {
		case libPython().MatchString(name):
			ver := libPython().FindStringSubmatch(name)[1]
			dir := "lib/python" + ver
			if _, ok := b.plan.items[dir]; ok {
				continue
			}
			src := b.hostOf("/usr/lib/python" + ver)
			if st, err := os.Stat(src); err != nil || !st.IsDir() {
				b.warnf("%s is bundled, but there is no /usr/lib/python%s %s: the Python it embeds will not start; add its standard library with --add DIR=%s", name, ver, b.where(), dir)
				continue
			}
			b.notef("%s is bundled: adding its standard library /usr/lib/python%s as %s", name, ver, dir)
			if err := b.addTree(src, dir, "runtime data: the standard library of "+name, 0, map[string]bool{}); err != nil {
				return err
			}
		case libPerl().MatchString(name) && !warned["perl"]:
			warned["perl"] = true
			ver := libPerl().FindStringSubmatch(name)[1]
			b.warnf("%s is bundled: perl looks for its modules only in the absolute directories it was built with (perl -V shows @INC), which a bundle cannot provide, so 'use' of a module fails unless the host has it; to carry them: --add /usr/share/perl/%s=lib/perl5/%s --add /usr/lib/%s/perl/%s=lib/perl5/%s-arch and run with PERL5LIB=BUNDLE/lib/perl5/%s:BUNDLE/lib/perl5/%s-arch",
				name, ver, ver, tripletOf(it.source), ver, ver, ver, ver)
		case (name == "libjli.so" || name == "libjvm.so") && !warned["jvm"]:
			warned["jvm"] = true
			if _, ok := b.plan.items["lib/modules"]; ok {
				continue
			}
			home := path.Dir(path.Dir(it.source))
			if path.Base(path.Dir(it.source)) == "server" {
				home = path.Dir(home)
			}
			b.warnf("%s is bundled: a JVM needs its home's class library and configuration, which are not in the bundle; add them with --add %s/lib=lib --add %s/conf=conf", name, home, home)
		}
	}
	for _, ep := range b.entries {
		if python3().MatchString(ep.Name) && !hasPython() {
			b.warnf("%s looks like a Python interpreter, but the bundle has no lib/python3.X: add its standard library with --add /usr/lib/python3.X (as python3 -c 'import os; print(os.__file__)' shows)", ep.Target)
		}
	}
	return nil
}

// tripletOf guesses the multiarch triplet from a library's path, e.g.
// /usr/lib/x86_64-linux-gnu/libperl.so.5.36 gives x86_64-linux-gnu.
func tripletOf(p string) string {
	for _, part := range strings.Split(p, "/") {
		if strings.Count(part, "-") >= 2 && strings.Contains(part, "linux") {
			return part
		}
	}
	return "<triplet>"
}

func (b *builder) notef(format string, args ...any) {
	if b.opts.Warn != nil {
		fmt.Fprintf(b.opts.Warn, "note: "+format+"\n", args...)
	}
}
