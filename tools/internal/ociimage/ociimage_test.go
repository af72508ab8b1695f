package ociimage_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rules-portable/rules_portable/tools/internal/bundle"
	"github.com/rules-portable/rules_portable/tools/internal/ociimage"
)

func curlBundle(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "curl")
	if _, err := bundle.Build(dir, []string{"/usr/bin/curl"}, bundle.Options{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func build(t *testing.T, dir string) *ociimage.Image {
	t.Helper()
	img, err := ociimage.Build(dir, ociimage.Options{Prefix: "/opt/curl", Entrypoint: "bin/curl", Arch: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestImageValidatesAndRuns: the layout passes skopeo (inspect, copy to a
// dir) and umoci (unpack), and the unpacked root runs the entrypoint in a
// chroot with only /proc added. Needs skopeo and umoci (Debian packages)
// and root.
func TestImageValidatesAndRuns(t *testing.T) {
	for _, tool := range []string{"skopeo", "umoci"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: apt-get install %s (tests/host-packages.txt)", tool, tool)
		}
	}
	if os.Geteuid() != 0 {
		t.Fatal("needs root (umoci unpack, chroot)")
	}
	work := t.TempDir()
	img := build(t, curlBundle(t))
	layout := filepath.Join(work, "img")
	if err := img.WriteLayout(layout); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("skopeo", "inspect", "oci:"+layout).Output()
	if err != nil {
		t.Fatalf("skopeo inspect: %v", err)
	}
	var info struct {
		Digest, Architecture, Os string
		Layers                   []string
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	if info.Digest != img.Digest() || info.Architecture != "amd64" || info.Os != "linux" || len(info.Layers) != 1 {
		t.Errorf("skopeo inspect: %+v; want digest %s, amd64, linux, one layer", info, img.Digest())
	}
	if b, err := exec.Command("skopeo", "copy", "oci:"+layout, "dir:"+filepath.Join(work, "copy")).CombinedOutput(); err != nil {
		t.Errorf("skopeo copy: %v\n%s", err, b)
	}
	tarOut := filepath.Join(work, "img.tar")
	if err := img.WriteTar(tarOut, zeroTime); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("skopeo", "inspect", "oci-archive:"+tarOut).Output(); err != nil || !bytes.Contains(b, []byte(img.Digest())) {
		t.Errorf("skopeo inspect oci-archive: %v\n%s", err, b)
	}
	bundleDir := filepath.Join(work, "unpacked")
	if b, err := exec.Command("umoci", "unpack", "--image", layout+":latest", bundleDir).CombinedOutput(); err != nil {
		t.Fatalf("umoci unpack: %v\n%s", err, b)
	}
	rootfs := filepath.Join(bundleDir, "rootfs")
	ents, _ := os.ReadDir(rootfs)
	if len(ents) != 1 || ents[0].Name() != "opt" {
		t.Errorf("the image's root holds %d entries; want only opt", len(ents))
	}
	if err := os.Mkdir(filepath.Join(rootfs, "proc"), 0o555); err != nil {
		t.Fatal(err)
	}
	b, err := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c",
		`mount -t proc proc "$1/proc" && exec chroot "$1" /opt/curl/bin/curl --version`, "_", rootfs).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(b), "curl ") {
		t.Errorf("the entrypoint in the unpacked root: %v\n%s", err, b)
	}
}

// TestImageDeterministic: two builds of the same bundle give the same
// digests and the same tar bytes.
func TestImageDeterministic(t *testing.T) {
	dir := curlBundle(t)
	a, b := build(t, dir), build(t, dir)
	if a.Digest() != b.Digest() {
		t.Errorf("digests differ: %s, %s", a.Digest(), b.Digest())
	}
	work := t.TempDir()
	for i, img := range []*ociimage.Image{a, b} {
		if err := img.WriteTar(filepath.Join(work, string(rune('a'+i))+".tar"), zeroTime); err != nil {
			t.Fatal(err)
		}
	}
	x, _ := os.ReadFile(filepath.Join(work, "a.tar"))
	y, _ := os.ReadFile(filepath.Join(work, "b.tar"))
	if !bytes.Equal(x, y) {
		t.Error("two image tars of the same bundle differ")
	}
}

var zeroTime = time.Time{}

// TestImageOfStagedTree: a bundle staged as Bazel's sandbox stages a tree
// input, a symlink per file to where it lies, gives the same image.
func TestImageOfStagedTree(t *testing.T) {
	dir := curlBundle(t)
	staged := filepath.Join(t.TempDir(), "staged")
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		dst := filepath.Join(staged, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case d.Type().IsRegular():
			return os.Symlink(p, dst)
		default:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := build(t, dir), build(t, staged); a.Digest() != b.Digest() {
		t.Errorf("the staged tree's image %s differs from the bundle's %s", b.Digest(), a.Digest())
	}
}
