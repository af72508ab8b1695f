package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/rules-portable/rules_portable/tools/internal/elf"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
	"github.com/rules-portable/rules_portable/tools/internal/manifest"
)

// tmpPrefix names the temp copies the fix-up writes next to the file it
// replaces; the launcher uses the same prefix and removes leftovers.
const tmpPrefix = ".portable-tmp-"

// maxPasses bounds the fix-up's repeated walks (see launcher/README.md).
const maxPasses = 4

// RelocateOptions control Relocate.
type RelocateOptions struct {
	// Direct replaces the bin/ launchers with symlinks to libexec/.
	Direct bool
	// As re-points the slots as if the bundle lay at this absolute path
	// (where it will be mounted, or copied into an image) instead of where
	// it is now. "" means where it is now.
	As string
}

// RelocateResult says what Relocate changed.
type RelocateResult struct {
	// Root is the bundle path the slots now name: the canonical path of
	// dir, or RelocateOptions.As.
	Root string
	// Repointed lists the executables whose slot was rewritten.
	Repointed []string
	// Direct lists the launchers replaced by symlinks.
	Direct []string
}

// Relocate re-points the interpreter slot of every executable under
// dir/libexec to dir/lib/<loader>, with the same algorithm as the
// launcher's fix-up: under an exclusive flock of dir/.portable/lock, each
// stale file is copied to a temp file in its directory, the copy's slot is
// written, and the copy is renamed over the original, which is never
// opened for writing (a running program would make that fail with
// ETXTBSY). With direct, every bin/NAME launcher of the manifest's entry
// points is then replaced by a relative symlink to ../libexec/NAME, and
// the manifest is updated to match.
func Relocate(dir string, opts RelocateOptions) (*RelocateResult, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, unwrap(err))
	}
	m, err := manifest.Read(root)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(root, ".portable"), 0o755); err != nil {
		return nil, writeErr(dir, err)
	}
	lock, err := fsutil.LockFile(filepath.Join(root, manifest.LockPath))
	if err != nil {
		return nil, writeErr(dir, err)
	}
	defer lock.Unlock()
	target := root
	if opts.As != "" {
		if !filepath.IsAbs(opts.As) || filepath.Clean(opts.As) != opts.As {
			return nil, fmt.Errorf("relocate as %q: want a clean absolute path", opts.As)
		}
		if err := manifest.ValidUTF8(opts.As); err != nil {
			return nil, fmt.Errorf("relocate as %q: %w", opts.As, err)
		}
		target = opts.As
	}
	res := &RelocateResult{Root: target}
	for pass := 0; pass < maxPasses; pass++ {
		changed, err := fixupPass(root, target)
		if err != nil {
			return nil, err
		}
		for _, c := range changed {
			if !slices.Contains(res.Repointed, c) {
				res.Repointed = append(res.Repointed, c)
			}
		}
		if len(changed) == 0 {
			break
		}
	}
	slices.Sort(res.Repointed)
	// verify accepts slots naming the loader where the bundle is, or
	// where --as said it will be: record the latter.
	recordChanged := m.RelocatedAs != opts.As
	m.RelocatedAs = opts.As
	if opts.Direct {
		if res.Direct, err = makeDirect(root, m); err != nil {
			return nil, err
		}
		recordChanged = recordChanged || len(res.Direct) > 0
	}
	if recordChanged {
		if err := writeManifest(root, m); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func writeErr(dir string, err error) error {
	if errors.Is(err, unix.EROFS) {
		return fmt.Errorf("%s: read-only; relocate needs to write the bundle (its launchers run a read-only bundle without relocating): %w", dir, unwrap(err))
	}
	return fmt.Errorf("%s: %w", dir, err)
}

// fixupPass walks libexec/ (depth <= MaxLibexecDepth, symlinks not
// followed) once and re-points every stale slot. It returns the bundle
// paths it changed. Slots are pointed at target/lib.
func fixupPass(root, target string) ([]string, error) {
	var changed []string
	libexec := filepath.Join(root, "libexec")
	err := filepath.WalkDir(libexec, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == libexec && errors.Is(err, fs.ErrNotExist) {
				return filepath.SkipDir
			}
			return err
		}
		rel, _ := filepath.Rel(libexec, p)
		if d.IsDir() {
			if p != libexec && strings.Count(filepath.ToSlash(rel), "/")+1 > MaxLibexecDepth {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), tmpPrefix) {
			// A crashed fix-up's leftover; we hold the lock.
			return os.Remove(p)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		did, err := repoint(target, p)
		if err != nil {
			return err
		}
		if did {
			changed = append(changed, filepath.ToSlash(filepath.Join("libexec", rel)))
		}
		return nil
	})
	if err != nil {
		return nil, writeErr(root, err)
	}
	return changed, nil
}

// freshPath is what a slot holding cur should hold in the bundle at root.
func freshPath(root, cur string) string {
	return root + "/lib/" + path.Base(cur)
}

// repoint rewrites p's slot to name the loader under root if it does not
// already; it reports whether it did.
func repoint(root, p string) (bool, error) {
	head, err := readMagic(p, 4)
	if err != nil || !bytes.Equal(head, []byte("\x7fELF")) {
		return false, err
	}
	f, err := elf.Open(p)
	if err != nil {
		return false, err
	}
	off, size, ok := f.InterpSlot()
	if !ok {
		return false, nil
	}
	fresh := freshPath(root, f.Interp)
	if f.Interp == fresh {
		return false, nil
	}
	slot, err := manifest.SlotBytes(fresh, size)
	if err != nil {
		return false, fmt.Errorf("%s: bundle path too long for the interpreter slot: %w; move the bundle to a shorter path", p, err)
	}
	return true, replaceWithSlot(p, off, slot)
}

// replaceWithSlot writes a copy of p with slot at off next to p and
// renames it over p.
//
// It holds syscall.ForkLock for reading while the copy is open for
// writing, which keeps this process from forking meanwhile: a child forked
// then would hold the descriptor until its exec, and an execve of the
// renamed program in that window (a launcher's, say) fails with "text file
// busy" (Go issue 22315). Forks take the lock for writing.
func replaceWithSlot(p string, off int64, slot []byte) (err error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	src, err := os.Open(p)
	if err != nil {
		return err
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(p), tmpPrefix+filepath.Base(p))
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	if err := fsutil.TrackTemp(tmp); err != nil { // removed on SIGINT/SIGTERM
		dst.Close()
		os.Remove(tmp)
		return err
	}
	defer fsutil.ForgetTemp(tmp)
	defer func() {
		if err != nil {
			dst.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = io.Copy(dst, src); err != nil {
		return fmt.Errorf("%s: copy: %w", p, err)
	}
	if _, err = dst.WriteAt(slot, off); err != nil {
		return fmt.Errorf("%s: write slot: %w", tmp, err)
	}
	// Keep the owner of a bundle relocated by root; the bundler never
	// writes set-ID bits (verify flags them), so Perm is the whole mode.
	if err = dst.Chmod(fsutil.MatchOwner(dst, st, st.Mode().Perm())); err != nil {
		return err
	}
	if err = dst.Sync(); err != nil {
		return err
	}
	if err = dst.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, p); err != nil {
		return err
	}
	return syncDir(filepath.Dir(p))
}

// makeDirect replaces the launchers of m's entry points by symlinks to the
// real programs and records that in the manifest.
func makeDirect(root string, m *manifest.Manifest) ([]string, error) {
	var done []string
	for _, ep := range m.EntryPoints {
		launcher := filepath.Join(root, filepath.FromSlash(ep.Launcher))
		link, err := filepath.Rel(filepath.Dir(launcher), filepath.Join(root, filepath.FromSlash(ep.Target)))
		if err != nil {
			return nil, err
		}
		link = filepath.ToSlash(link)
		if cur, err := os.Readlink(launcher); err == nil && cur == link {
			continue
		}
		tmp := filepath.Join(filepath.Dir(launcher), tmpPrefix+filepath.Base(launcher))
		os.Remove(tmp)
		if err := os.Symlink(link, tmp); err != nil {
			return nil, writeErr(root, err)
		}
		if err := os.Rename(tmp, launcher); err != nil {
			os.Remove(tmp)
			return nil, writeErr(root, err)
		}
		done = append(done, ep.Launcher)
		for i := range m.Files {
			if m.Files[i].Path == ep.Launcher {
				m.Files[i] = manifest.Entry{Path: ep.Launcher, Type: manifest.Symlink, Mode: 0o777, Link: link}
			}
		}
	}
	if len(done) == 0 {
		return nil, nil
	}
	return done, syncDir(filepath.Join(root, "bin"))
}

func writeManifest(root string, m *manifest.Manifest) error {
	data, err := m.Marshal()
	if err != nil {
		return err
	}
	return fsutil.WriteBytesAtomic(filepath.Join(root, manifest.Path), 0o644, data)
}
