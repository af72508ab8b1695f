package bundle

import (
	debugelf "debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/rules-portable/rules_portable/tools/internal/deps"
	"github.com/rules-portable/rules_portable/tools/internal/elf"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
	"github.com/rules-portable/rules_portable/tools/internal/glibcdata"
	"github.com/rules-portable/rules_portable/tools/internal/launcherbin"
	"github.com/rules-portable/rules_portable/tools/internal/ldso"
	"github.com/rules-portable/rules_portable/tools/internal/locale"
	"github.com/rules-portable/rules_portable/tools/internal/manifest"
	"github.com/rules-portable/rules_portable/tools/internal/sysroot"
)

// nssModules are the NSS modules bundled by policy when the root has them.
func nssModules() []string { return []string{"libnss_files.so.2", "libnss_dns.so.2"} }

// resolve computes the closure of every ELF input inside the root, places
// it in lib/, adds glibc's dlopen set by policy and finishes the slot
// patches now that the loader is known.
func (b *builder) resolve() error {
	r, err := deps.NewResolver(b.root, deps.Options{Parsed: b.parsed, Symlinks: b.links})
	if err != nil {
		return err
	}
	if err := b.resolveInputs(r, b.inputs); err != nil {
		return err
	}
	if b.libc != nil {
		n := len(b.inputs)
		if err := b.addPolicy(); err != nil {
			return err
		}
		if err := b.resolveInputs(r, b.inputs[n:]); err != nil {
			return err
		}
		n = len(b.inputs)
		if err := b.runtimeData(); err != nil {
			return err
		}
		if err := b.resolveInputs(r, b.inputs[n:]); err != nil {
			return err
		}
	} else if g, _ := ParseGconv(b.opts.Gconv); g == GconvYes {
		return fmt.Errorf("--gconv: the closure has no glibc libc.so.6, so there are no gconv modules to add")
	}
	if b.needsAudit() && (b.loader != "" || b.opts.EnforceChecksums || len(b.opts.HostLib) > 0) {
		if b.loader == "" {
			return errors.New("--enforce-checksums and --host-lib need a dynamically linked program: the audit module is loaded by the bundle's loader, and these programs have none")
		}
		mod, err := launcherbin.AuditForMachine(debugelf.Machine(b.machine))
		if err != nil {
			return err
		}
		if err := b.plan.put(&item{dest: manifest.AuditModulePath, kind: kindFile, data: mod, why: "the rtld-audit module (--enforce-checksums, --host-lib)"}); err != nil {
			return err
		}
	}
	if err := b.addLocales(); err != nil {
		return err
	}
	if err := b.closeLibc(); err != nil {
		return err
	}
	return b.finishSlots()
}

// addLocales writes the --locale locales, found as compiled directories
// under the root's /usr/lib/locale, into lib/locale/locale-archive.
func (b *builder) addLocales() error {
	if len(b.opts.Locales) == 0 {
		return nil
	}
	if b.libc == nil {
		return errors.New("--locale: the closure has no glibc libc.so.6 to read locales")
	}
	if b.hostLibs() == HostLibsFallback {
		return errors.New("--locale: with --host-libs fallback libc is bundled as it is and reads the host's locales; drop one")
	}
	var ls []*locale.Locale
	seen := map[string]bool{}
	for _, name := range b.opts.Locales {
		norm := locale.Normalize(name)
		if seen[norm] {
			continue
		}
		seen[norm] = true
		var dir string
		for _, n := range []string{name, norm} {
			d := b.hostOf(path.Join("/usr/lib/locale", n))
			if st, err := os.Stat(d); err == nil && st.IsDir() {
				dir = d
				break
			}
		}
		if dir == "" {
			return fmt.Errorf("--locale %s: no compiled locale /usr/lib/locale/%s %s; compile it there (localedef -i LANG -f CHARSET --no-archive /usr/lib/locale/%s), or for C.UTF-8 add Debian's libc-bin", name, norm, b.where(), norm)
		}
		l, err := locale.ReadDir(dir, name)
		if err != nil {
			return err
		}
		ls = append(ls, l)
	}
	data, err := locale.Write(ls, binary.LittleEndian)
	if err != nil {
		return err
	}
	return b.plan.put(&item{dest: "lib/locale/locale-archive", kind: kindFile, data: data, why: "--locale " + strings.Join(b.opts.Locales, " ")})
}

// wantGconv applies the gconv policy: auto adds the modules when a
// bundled object other than libc calls iconv_open.
func (b *builder) wantGconv() bool {
	switch g, _ := ParseGconv(b.opts.Gconv); g {
	case GconvYes:
		return true
	case GconvNo:
		return false
	}
	for _, it := range b.plan.sorted() {
		if it.kind != kindFile || it.src == "" || b.objects[it.dest] == nil && !strings.HasPrefix(it.dest, "libexec/") {
			continue
		}
		if path.Base(it.dest) == "libc.so.6" {
			continue
		}
		if importsSymbol(it.src, "iconv_open") {
			b.notef("%s calls iconv_open: adding glibc's gconv modules as lib/gconv (--gconv=no leaves them out)", it.dest)
			return true
		}
	}
	return false
}

// importsSymbol reports whether the ELF file at p needs symbol name from
// another object.
func importsSymbol(p, name string) bool {
	f, err := debugelf.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	syms, err := f.ImportedSymbols()
	if err != nil {
		return false
	}
	for _, s := range syms {
		if s.Name == name {
			return true
		}
	}
	return false
}

// closeLibc points the bundled libc's compiled-in gconv and locale paths
// at the bundle's own data or at nothing (package glibcdata), unless the
// policy is fallback.
func (b *builder) closeLibc() error {
	it, ok := b.plan.items["lib/libc.so.6"]
	if !ok || b.hostLibs() == HostLibsFallback || b.loader == "" || it.src == "" {
		return nil
	}
	if it.patch != nil {
		return fmt.Errorf("%s: a libc.so.6 with a library search path of its own is not a glibc this bundler knows; bundle with --host-libs fallback", it.src)
	}
	data, err := fsutil.ReadInput("", it.src, fsutil.MaxSmallFileSize)
	if err != nil {
		return fmt.Errorf("%w (%s)", err, it.why)
	}
	_, gconv := b.plan.items["lib/gconv"]
	_, locale := b.plan.items["lib/locale/locale-archive"]
	if err = glibcdata.PatchInPlace(data, glibcdata.Anchors{Gconv: gconv, Locale: locale}); err != nil {
		return fmt.Errorf("libc %s: %w; bundle with --host-libs fallback to keep the host's gconv modules and locales", it.source, err)
	}
	it.data = data
	return nil
}

func (b *builder) where() string {
	if b.root == "/" {
		return "on this machine"
	}
	return fmt.Sprintf("in sysroot %s (%s)", b.label, b.root)
}

func (b *builder) resolveInputs(r *deps.Resolver, inputs []string) error {
	if len(inputs) == 0 {
		return nil
	}
	c, err := r.Resolve(inputs...)
	if err != nil {
		return err
	}
	// A program's missing library is an error. A shared object that --add
	// brought in is loaded with dlopen into a process that may already
	// hold what it needs (the JDK's libjava.so needs libjvm.so, which the
	// launcher loaded from lib/server/): a name that the bundle has
	// anywhere is fine, anything else a warning.
	var hard []deps.Missing
	soft := map[string][]string{}
	var softNames []string
	for i, p := range c.Programs {
		for _, m := range p.Missing {
			if !b.plugins[inputs[i]] {
				if j := slices.IndexFunc(hard, func(h deps.Missing) bool { return h.Name == m.Name }); j >= 0 {
					for _, n := range m.NeededBy {
						if !slices.Contains(hard[j].NeededBy, n) {
							hard[j].NeededBy = append(hard[j].NeededBy, n)
						}
					}
				} else {
					hard = append(hard, m)
				}
				continue
			}
			if _, ok := soft[m.Name]; !ok {
				softNames = append(softNames, m.Name)
			}
			soft[m.Name] = append(soft[m.Name], inputs[i])
		}
	}
	if len(hard) > 0 {
		var parts []string
		for _, m := range hard {
			var by []string
			for _, n := range m.NeededBy {
				by = append(by, b.describeNeeder(n))
			}
			if m.Reason == "not found" {
				parts = append(parts, fmt.Sprintf("%s (needed by %s) not found %s", m.Name, strings.Join(by, ", "), b.where()))
			} else {
				parts = append(parts, fmt.Sprintf("%s (needed by %s) cannot be loaded: %s", m.Name, strings.Join(by, ", "), m.Reason))
			}
		}
		fix := "install the package that ships it"
		if b.root != "/" {
			fix = "add the package that ships it to the sysroot lock"
		}
		const maxListed = 20
		if n := len(parts); n > maxListed {
			parts = append(parts[:maxListed], fmt.Sprintf("and %d more libraries", n-maxListed))
		}
		prefix := ""
		if len(hard) > 1 {
			prefix = fmt.Sprintf("%d libraries are missing: ", len(hard))
			fix = strings.NewReplacer("the package that ships it", "the packages that ship them", "its file", "their files").Replace(fix + ", or add its file")
			return fmt.Errorf("%s%s; %s with --add", prefix, strings.Join(parts, "; "), fix)
		}
		return fmt.Errorf("%s; %s, or add its file with --add", strings.Join(parts, "; "), fix)
	}
	defer func() {
		for _, name := range softNames {
			if !b.hasName(name) {
				b.warnf("%s (needed by %s) not found %s; loading %s will fail unless the program loaded %s first", name, strings.Join(soft[name], ", "), b.where(), strings.Join(soft[name], ", "), name)
			}
		}
	}()
	needed := map[string]bool{}
	for _, p := range c.Programs {
		for _, n := range p.File.Needed {
			needed[n] = true
		}
	}
	for _, l := range c.Libraries {
		if l.File != nil {
			for _, n := range l.File.Needed {
				needed[n] = true
			}
		}
	}
	for i := range c.Libraries {
		if err := b.placeLibrary(&c.Libraries[i], needed); err != nil {
			return err
		}
	}
	return nil
}

// hasName reports whether the bundle has a file named name anywhere.
func (b *builder) hasName(name string) bool {
	for dest, it := range b.plan.items {
		if it.kind != kindDir && path.Base(dest) == name {
			return true
		}
	}
	return false
}

// describeNeeder turns a deps needer path into what the user gave.
func (b *builder) describeNeeder(n string) string {
	host := b.hostOf(n)
	if dest, ok := b.inputDest[host]; ok {
		return fmt.Sprintf("%s, bundled as %s", n, dest)
	}
	if dest, ok := b.inputDest[n]; ok {
		return fmt.Sprintf("%s, bundled as %s", n, dest)
	}
	return n
}

func (b *builder) placeLibrary(l *deps.Library, needed map[string]bool) error {
	source := b.sourceOf(l.HostPath)
	why := "needed by " + strings.Join(l.NeededBy, ", ")
	if l.Interpreter {
		dest := "lib/" + path.Base(l.Name)
		if b.loader != "" && b.loader != dest {
			return fmt.Errorf("the programs use different loaders (%s and %s); bundle them separately", b.loader, dest)
		}
		b.loader, b.loaderHost = dest, l.HostPath
		b.objects[dest] = l.File
		it := &item{dest: dest, kind: kindFile, src: l.HostPath, source: source, exec: true, why: "loader, " + why}
		if policy := b.hostLibs(); policy != HostLibsFallback {
			data, err := fsutil.ReadInput("", l.HostPath, fsutil.MaxSmallFileSize)
			if err != nil {
				return fmt.Errorf("%w (%s)", err, it.why)
			}
			if policy == HostLibsListed {
				data, err = ldso.ClosePreload(data)
			} else {
				data, _, err = ldso.Close(data)
			}
			if err != nil {
				return fmt.Errorf("loader %s: %w; bundle with --host-libs=fallback to keep the host's library search", source, err)
			}
			it.data = data
		}
		return b.plan.put(it)
	}
	if b.loaderHost != "" && l.HostPath == b.loaderHost {
		return nil // the loader, asked for by name (libc.so.6 needs it): already in place
	}
	names := []string{l.Name}
	if l.SOName != "" && l.SOName != l.Name && needed[l.SOName] {
		names = append(names, l.SOName)
	}
	// Every other name that reached the same file (a compat symlink):
	// the bundle stores the file once (dedupe links the copies).
	for _, a := range l.Aliases {
		// A name with a slash was opened by path, not searched for: the
		// file is reached without it.
		if !slices.Contains(names, a) && !strings.Contains(a, "/") {
			names = append(names, a)
		}
	}
	if l.SOName == "libc.so.6" || (l.SOName == "" && l.Name == "libc.so.6") {
		b.libc = l
	}
	st, err := os.Stat(l.HostPath)
	if err != nil {
		return fmt.Errorf("%s (%s): %w", l.HostPath, why, unwrap(err))
	}
	exec := st.Mode()&0o111 != 0 // as --add would copy it
	for _, name := range names {
		if strings.Contains(name, "/") {
			return fmt.Errorf("%s (%s) is asked for by a path, not a name; such a dependency can't be relocated", name, why)
		}
		dest := "lib/" + name
		it := &item{dest: dest, kind: kindFile, src: l.HostPath, source: source, exec: exec, why: why, elf: l.File}
		if l.File != nil && hasSearchPath(l.File) {
			it.patch = &elf.PatchOptions{SetRPath: true, RPath: "$ORIGIN"}
		}
		if err := b.plan.put(it); err != nil {
			return err
		}
		b.objects[dest] = l.File
	}
	return nil
}

// addPolicy adds glibc's own dlopen set (see the package doc).
func (b *builder) addPolicy() error {
	libcDir := path.Dir(b.libc.RealPath)
	for _, name := range nssModules() {
		p := b.hostOf(path.Join(libcDir, name))
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			if err := b.addFile(p, "lib/"+name, "glibc policy: NSS module"); err != nil {
				return err
			}
		}
	}
	found := false
	for _, dir := range libDirs(libcDir) {
		p := b.hostOf(path.Join(dir, "libgcc_s.so.1"))
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			if err := b.addFile(p, "lib/libgcc_s.so.1", "glibc policy: pthread_cancel unwinding"); err != nil {
				return err
			}
			found = true
			break
		}
	}
	if !found {
		b.warnf("libgcc_s.so.1 not found %s; pthread_cancel and pthread_exit will abort in the bundle (add the libgcc-s1 package)", b.where())
	}
	if b.wantGconv() {
		dir := b.hostOf(path.Join(libcDir, "gconv"))
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return fmt.Errorf("--gconv: no gconv modules at %s %s", path.Join(libcDir, "gconv"), b.where())
		}
		if err := b.addTree(dir, "lib/gconv", "--gconv", 0, map[string]bool{}); err != nil {
			return err
		}
	}
	return nil
}

// libDirs lists where libgcc_s.so.1 may live next to a libc in dir: the
// same directory, its twin across the /usr merge, then the usual ones.
func libDirs(dir string) []string {
	out := []string{dir}
	if rest, ok := strings.CutPrefix(dir, "/usr"); ok {
		out = append(out, rest)
	} else {
		out = append(out, "/usr"+dir)
	}
	for _, d := range []string{"/lib64", "/usr/lib64", "/lib", "/usr/lib"} {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// finishSlots writes the placeholder into every slotted executable's patch.
func (b *builder) finishSlots() error {
	for _, it := range b.plan.items {
		if !it.slot {
			continue
		}
		if b.loader == "" {
			return fmt.Errorf("%s: has an interpreter but no loader was found", it.src)
		}
		p := elf.PatchOptions{SetRPath: true, RPath: rpathFor(it.dest, nil)}
		if it.patch != nil {
			p = *it.patch
		}
		p.Interpreter = Placeholder(path.Base(b.loader))
		p.InterpSlot = SlotSize
		if b.needsAudit() && b.loader != "" {
			p.SetAudit, p.Audit = true, originTo(it.dest, path.Dir(manifest.AuditModulePath))+"/"+path.Base(manifest.AuditModulePath)
		}
		it.patch = &p
	}
	return nil
}

// versionGate refuses a bundle whose files need newer glibc (or
// libstdc++) symbol versions than the bundled libraries define.
func (b *builder) versionGate() error {
	if b.libc == nil {
		return nil
	}
	glibc, err := sysroot.DetectGlibc(b.libc.HostPath)
	if err != nil {
		return fmt.Errorf("bundled libc: %w", err)
	}
	b.glibc = glibc
	compat := sysroot.Compat{Label: b.label, Glibc: glibc}
	if it, ok := b.plan.items["lib/libstdc++.so.6"]; ok && it.src != "" {
		if v, err := sysroot.DetectGlibcxx(it.src); err == nil {
			compat.Glibcxx = v
		}
	}
	dests := make([]string, 0, len(b.objects))
	for d := range b.objects {
		dests = append(dests, d)
	}
	slices.Sort(dests)
	for _, d := range dests {
		f := b.objects[d]
		if f == nil {
			continue
		}
		name := d
		if it, ok := b.plan.items[d]; ok && it.src != "" {
			name = it.src
		}
		if err := sysroot.CheckCompat(name, f, compat); err != nil {
			var tn *sysroot.TooNewError
			if b.root == "/" && errors.As(err, &tn) {
				return fmt.Errorf("%s: needs %s but this machine has %s, and without --sysroot the bundle takes this machine's libraries; bundle it with --sysroot DIR holding a newer glibc (e.g. the root it was built in)", tn.Name, tn.Need, tn.Have)
			}
			return err
		}
	}
	return nil
}
