// Package ociimage writes a bundle as an OCI image: one layer holding the
// bundle under a prefix, a config whose Entrypoint is a program of the
// bundle, nothing else in the root. The output is an OCI image layout
// directory, or the same layout as a tar that also carries the
// manifest.json `docker load` reads. Digests are deterministic: the same
// bundle gives the same bytes.
package ociimage

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rules-portable/rules_portable/tools/internal/archive"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
)

// Media types of the OCI image specification.
const (
	MediaIndex    = "application/vnd.oci.image.index.v1+json"
	MediaManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaConfig   = "application/vnd.oci.image.config.v1+json"
	MediaLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// Options are the choices of Write.
type Options struct {
	// Prefix is where the bundle sits in the image, e.g. "opt/curl".
	Prefix string
	// Entrypoint is the program to run, relative to the bundle, e.g.
	// "bin/curl".
	Entrypoint string
	// Arch is the OCI architecture, "amd64" or "arm64".
	Arch string
	// Tag names the image in index.json and manifest.json, e.g.
	// "curl:latest".
	Tag string
	// MTime is stamped on every layer entry (the zero value: the epoch).
	MTime time.Time
}

// Descriptor is an OCI content descriptor.
type Descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type blob struct {
	desc Descriptor
	data []byte
}

func newBlob(media string, data []byte) blob {
	sum := sha256.Sum256(data)
	return blob{Descriptor{MediaType: media, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(data))}, data}
}

// Image is a built image: its blobs and the documents that name them.
type Image struct {
	Layer, Config, Manifest blob
	Index                   []byte
	DockerManifest          []byte
}

// Build makes the image of the bundle directory dir.
func Build(dir string, opts Options) (*Image, error) {
	prefix := strings.Trim(path.Clean("/"+opts.Prefix), "/")
	if prefix == "" {
		return nil, fmt.Errorf("--prefix %q: want a directory such as opt/NAME for the bundle", opts.Prefix)
	}
	entry := path.Clean(opts.Entrypoint)
	if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(entry))); err != nil || !st.Mode().IsRegular() || strings.HasPrefix(entry, "../") {
		return nil, fmt.Errorf("%s: the bundle has no %s to be the entrypoint; name one of its bin/ programs", dir, opts.Entrypoint)
	}
	switch opts.Arch {
	case "amd64", "arm64":
	default:
		return nil, fmt.Errorf("architecture %q: want amd64 or arm64", opts.Arch)
	}
	entries, err := archive.Scan(dir)
	if err != nil {
		return nil, err
	}
	if entries, err = readThrough(dir, entries); err != nil {
		return nil, err
	}
	var tar, gz bytes.Buffer
	if err := archive.WriteEntries(&tar, entries, archive.Options{MTime: opts.MTime, Prefix: prefix}); err != nil {
		return nil, err
	}
	diffID := sha256.Sum256(tar.Bytes())
	zw, err := archive.Compress(&gz, archive.Gzip)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(tar.Bytes()); err != nil {
		zw.Close()
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	img := &Image{Layer: newBlob(MediaLayer, gz.Bytes())}
	config := map[string]any{
		"architecture": opts.Arch,
		"os":           "linux",
		"config":       map[string]any{"Entrypoint": []string{"/" + prefix + "/" + entry}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + hex.EncodeToString(diffID[:])}},
		"history":      []map[string]any{{"created_by": "portable image", "comment": "the bundle at /" + prefix}},
	}
	cb, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	img.Config = newBlob(MediaConfig, cb)
	mb, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     MediaManifest,
		"config":        img.Config.desc,
		"layers":        []Descriptor{img.Layer.desc},
	})
	if err != nil {
		return nil, err
	}
	img.Manifest = newBlob(MediaManifest, mb)
	md := img.Manifest.desc
	tag := opts.Tag
	if tag == "" {
		tag = path.Base(prefix) + ":latest"
	}
	name, ref, ok := strings.Cut(tag, ":")
	if !ok {
		name, ref = tag, "latest"
	}
	md.Annotations = map[string]string{"org.opencontainers.image.ref.name": ref, "io.containerd.image.name": name + ":" + ref}
	if img.Index, err = json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": MediaIndex, "manifests": []Descriptor{md}}); err != nil {
		return nil, err
	}
	if img.DockerManifest, err = json.Marshal([]map[string]any{{
		"Config":   blobPath(img.Config.desc),
		"RepoTags": []string{name + ":" + ref},
		"Layers":   []string{blobPath(img.Layer.desc)},
	}}); err != nil {
		return nil, err
	}
	return img, nil
}

func blobPath(d Descriptor) string { return "blobs/sha256/" + strings.TrimPrefix(d.Digest, "sha256:") }

// files lists the image layout's files in a fixed order.
func (img *Image) files() []struct {
	name string
	data []byte
} {
	return []struct {
		name string
		data []byte
	}{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"index.json", img.Index},
		{blobPath(img.Config.desc), img.Config.data},
		{blobPath(img.Layer.desc), img.Layer.data},
		{blobPath(img.Manifest.desc), img.Manifest.data},
	}
}

// WriteLayout writes the image as a new OCI image layout directory out
// (which must not exist, or be empty): staged next to it and renamed into
// place.
func (img *Image) WriteLayout(out string) error {
	// An empty directory (what Bazel makes for a tree output) is taken.
	if err := fsutil.RemoveEmptyDir(out); err != nil {
		return err
	}
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("%s: already exists and is not an empty directory; remove it or choose another -o", out)
	}
	staging, err := fsutil.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+fsutil.TempInfix)
	if err != nil {
		return fmt.Errorf("%s: cannot create a temp directory next to it: %w", out, err)
	}
	defer fsutil.RemoveTemp(staging)
	if err := os.Chmod(staging, 0o755); err != nil {
		return err
	}
	for _, f := range img.files() {
		p := filepath.Join(staging, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			return err
		}
	}
	return fsutil.Committing(func() error { return fsutil.RenameNoReplace(staging, out) })
}

// WriteTar writes the image layout, with docker's manifest.json too, as
// the tar out (deterministic, atomic).
func (img *Image) WriteTar(out string, mtime time.Time) error {
	return fsutil.WriteFileAtomic(out, 0o644, func(w io.Writer) error {
		var entries []archive.Entry
		seen := map[string]bool{}
		add := func(name string, data []byte) {
			for d := path.Dir(name); d != "."; d = path.Dir(d) {
				if !seen[d] {
					seen[d] = true
					entries = append(entries, archive.Entry{Name: d, Type: archive.TypeDir, Mode: 0o755})
				}
			}
			entries = append(entries, archive.Entry{Name: name, Type: archive.TypeFile, Mode: 0o644, Size: int64(len(data)),
				Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }})
		}
		for _, f := range img.files() {
			add(f.name, f.data)
		}
		add("manifest.json", img.DockerManifest)
		return archive.WriteEntries(w, entries, archive.Options{MTime: mtime})
	})
}

// Digest is the image manifest's digest, the image's identity.
func (img *Image) Digest() string { return img.Manifest.desc.Digest }

// WriteLayer writes the image's one layer (a gzip tar of the bundle under
// its prefix) to out, atomically: what rules_oci's oci_image(tars) takes.
func (img *Image) WriteLayer(out string) error {
	return fsutil.WriteBytesAtomic(out, 0o644, img.Layer.data)
}

// readThrough replaces each symlink of the bundle that points outside it
// (a bundle has none of its own: Bazel's sandbox stages a tree input as a
// symlink per file) with the file it names.
func readThrough(dir string, entries []archive.Entry) ([]archive.Entry, error) {
	same := map[[2]uint64][]int{}
	for i, e := range entries {
		if e.Type != archive.TypeSymlink {
			continue
		}
		target := e.Linkname
		if !filepath.IsAbs(target) {
			rel := path.Join(path.Dir(e.Name), target)
			if rel != ".." && !strings.HasPrefix(rel, "../") {
				continue // inside the bundle: kept as a symlink
			}
			target = filepath.Join(dir, filepath.FromSlash(path.Dir(e.Name)), filepath.FromSlash(e.Linkname))
		}
		st, err := os.Stat(target)
		if err != nil {
			return nil, fmt.Errorf("%s: %s is a symlink out of the bundle to %s: %w", dir, e.Name, e.Linkname, err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: %s is a symlink out of the bundle to %s, which is not a regular file", dir, e.Name, e.Linkname)
		}
		entries[i] = archive.Entry{Name: e.Name, Type: archive.TypeFile, Mode: st.Mode().Perm(), Size: st.Size(),
			Open: func() (io.ReadCloser, error) { return os.Open(target) }}
		if s, ok := st.Sys().(*syscall.Stat_t); ok && s.Nlink > 1 {
			k := [2]uint64{uint64(s.Dev), s.Ino}
			same[k] = append(same[k], i)
		}
	}
	// Hard links of the bundle (files stored once) stay hard links, named
	// as archive.Scan names them: the first in archive order holds the data.
	for _, idx := range same {
		first := idx[0]
		for _, i := range idx[1:] {
			if archive.ComparePaths(entries[i].Name, entries[first].Name) < 0 {
				first = i
			}
		}
		for _, i := range idx {
			if i != first {
				entries[i] = archive.Entry{Name: entries[i].Name, Type: archive.TypeHardlink, Linkname: entries[first].Name, Mode: entries[first].Mode}
			}
		}
	}
	return entries, nil
}
