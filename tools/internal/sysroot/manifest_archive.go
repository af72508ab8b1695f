package sysroot

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/rules-portable/rules_portable/tools/internal/archive"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
)

// maxManifestSize bounds the manifest read from an archive.
const maxManifestSize = 64 << 20

// ReadManifestAt reads the manifest of a sysroot given as a directory or as
// an archive written by Build (.tar, .tar.gz, .tar.zst), whose entries may
// sit under a prefix such as usr/sysroot/v2/. An archive is streamed, never
// unpacked.
func ReadManifestAt(p string) (*Manifest, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("sysroot %s: %w", p, err)
	}
	if st.IsDir() {
		return ReadManifest(p)
	}
	if !archive.IsArchiveName(p) {
		return nil, fmt.Errorf("sysroot %s: neither a directory nor a .tar, .tar.gz or .tar.zst archive", p)
	}
	f, _, err := fsutil.OpenInput("sysroot", p, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, _, err := archive.Decompress(f)
	if err != nil {
		return nil, fmt.Errorf("sysroot %s: %w", p, err)
	}
	defer r.Close()
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("sysroot %s: no %s in the archive; is it a sysroot built by 'portable sysroot build'?", p, ManifestPath)
		}
		if err != nil {
			return nil, fmt.Errorf("sysroot %s: read archive: %w", p, err)
		}
		name := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		if hdr.Typeflag != tar.TypeReg || (name != ManifestPath && !strings.HasSuffix(name, "/"+ManifestPath)) {
			continue
		}
		if hdr.Size > maxManifestSize {
			return nil, fmt.Errorf("sysroot %s: %s is %d bytes, over the %d limit", p, hdr.Name, hdr.Size, maxManifestSize)
		}
		data, err := io.ReadAll(io.LimitReader(tr, hdr.Size))
		if err != nil {
			return nil, fmt.Errorf("sysroot %s: read %s: %w", p, hdr.Name, err)
		}
		m, err := ParseManifest(data)
		if err != nil {
			return nil, fmt.Errorf("sysroot %s: %s: %w", p, hdr.Name, err)
		}
		return m, nil
	}
}
