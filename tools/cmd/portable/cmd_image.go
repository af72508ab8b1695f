package main

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/rules-portable/rules_portable/tools/internal/bundle"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
	"github.com/rules-portable/rules_portable/tools/internal/manifest"
	"github.com/rules-portable/rules_portable/tools/internal/ociimage"
)

const imageUsage = "-o DIR|FILE.tar [--entrypoint bin/NAME] [--prefix /opt/NAME] [--tag NAME:TAG] [--layer FILE.tar.gz] BUNDLE-DIR | EXECUTABLE..."

const imageHelp = `
Write a bundle as an OCI image: one layer holding the bundle under
--prefix (default /opt/NAME), a config whose Entrypoint is the bundle's
bin/NAME (--entrypoint; default: its first program), the architecture of
the bundle, and nothing else in the image's root. The input is a bundle
directory made by 'portable bundle', or programs to bundle from this
machine (as 'portable bundle' would with its defaults).

-o DIR writes an OCI image layout directory (must not exist); -o FILE.tar
writes the same layout as a tar, with docker's manifest.json as well, so
that both 'skopeo copy oci-archive:FILE.tar ...' and 'docker load -i
FILE.tar' read it. The output is deterministic: the same bundle gives the
same digests (mtime 0, or $SOURCE_DATE_EPOCH when set). --layer FILE also
writes the image's one layer alone (gzip), which is what rules_oci's
oci_image(tars = [...]) takes: see docs/image.md.

Examples:
  portable image -o curl-image /usr/bin/curl
  skopeo inspect oci:curl-image
  portable image -o py.tar --tag py:3.11 ./py-bundle
`

func runImage(e *env, args []string) error {
	fs := newFlagSet(e, "image", imageUsage, imageHelp)
	out := fs.String("o", "", "write the image to `OUT`: a new OCI layout directory, or FILE.tar")
	entry := fs.String("entrypoint", "", "the program to run, relative to the bundle (default: bin/ of its first program)")
	prefix := fs.String("prefix", "", "where the bundle goes in the image (default /opt/NAME)")
	tag := fs.String("tag", "", "the image's name and tag (default NAME:latest)")
	layer := fs.String("layer", "", "also write the image's layer alone to `FILE` (.tar.gz)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("image: -o OUT is required")
	}
	if fs.NArg() == 0 {
		return usagef("image: give a bundle directory or programs to bundle")
	}
	mtime, err := sourceDateEpoch()
	if err != nil {
		return err
	}
	dir := fs.Arg(0)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		// Programs: bundle them first, aside.
		tmp, err := fsutil.MkdirTemp("", "portable-image"+fsutil.TempInfix)
		if err != nil {
			return err
		}
		defer fsutil.RemoveTemp(tmp)
		dir = filepath.Join(tmp, "b")
		if _, err := bundle.Build(dir, fs.Args(), bundle.Options{MTime: mtime, Warn: e.stderr}); err != nil {
			return err
		}
	} else if fs.NArg() > 1 {
		return usagef("image: one bundle directory, or programs only")
	}
	m, err := manifest.Read(dir)
	if err != nil {
		return err
	}
	if len(m.EntryPoints) == 0 {
		return fmt.Errorf("%s: the bundle has no program to be the entrypoint", dir)
	}
	name := m.EntryPoints[0].Name
	if *entry == "" {
		*entry = m.EntryPoints[0].Launcher
	}
	if *prefix == "" {
		*prefix = "/opt/" + name
	}
	arch := map[string]string{"x86_64": "amd64", "aarch64": "arm64"}[m.Arch]
	img, err := ociimage.Build(dir, ociimage.Options{Prefix: *prefix, Entrypoint: *entry, Arch: arch, Tag: *tag, MTime: mtime})
	if err != nil {
		return err
	}
	if strings.HasSuffix(*out, ".tar") {
		err = img.WriteTar(*out, mtime)
	} else {
		err = img.WriteLayout(*out)
	}
	if err != nil {
		return err
	}
	if *layer != "" {
		if err := img.WriteLayer(*layer); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "wrote %s: image %s, entrypoint %s\n", *out, img.Digest(), path.Join(*prefix, *entry))
	return nil
}
