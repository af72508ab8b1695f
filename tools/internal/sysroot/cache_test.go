package sysroot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rules-portable/rules_portable/tools/internal/deb"
	"github.com/rules-portable/rules_portable/tools/internal/deb/debtest"
)

// fakeMirror serves files from a map on loopback. A path in truncate is
// served with its full Content-Length but only half its body, as a
// dropped connection would.
type fakeMirror struct {
	files    map[string][]byte
	truncate map[string]bool
	hits     atomic.Int64
}

func (m *fakeMirror) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.hits.Add(1)
	data, ok := m.files[strings.TrimPrefix(r.URL.Path, "/debian/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	if m.truncate[strings.TrimPrefix(r.URL.Path, "/debian/")] {
		w.Write(data[:len(data)/2])
		return
	}
	w.Write(data)
}

func startMirror(t *testing.T, m *fakeMirror) *Fetcher {
	t.Helper()
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return &Fetcher{Client: srv.Client(), Mirror: srv.URL + "/debian", Cache: &Cache{Dir: t.TempDir()}}
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// cacheFiles lists every file under the cache directory.
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestFetch(t *testing.T) {
	body := []byte(strings.Repeat("package bytes ", 1000))
	m := &fakeMirror{files: map[string][]byte{
		"pool/a.deb":     body,
		"pool/trunc.deb": body,
		"pool/long.deb":  append(body, 'x'),
	}, truncate: map[string]bool{"pool/trunc.deb": true}}
	f := startMirror(t, m)
	ctx := context.Background()

	p, err := f.Fetch(ctx, "pool/a.deb", int64(len(body)), sum(body))
	if err != nil {
		t.Fatal(err)
	}
	if p != f.Cache.Path(sum(body)) {
		t.Fatalf("path %s", p)
	}
	hits := m.hits.Load()
	if _, dl, err := f.FetchStatus(ctx, "pool/a.deb", int64(len(body)), sum(body)); err != nil || dl || m.hits.Load() != hits {
		t.Fatalf("second fetch went to the mirror: %v %v", dl, err)
	}
	// A corrupted cache entry is noticed and fetched again.
	os.WriteFile(p, append(body[:len(body)-1], '!'), 0o644)
	if _, dl, err := f.FetchStatus(ctx, "pool/a.deb", int64(len(body)), sum(body)); err != nil || !dl {
		t.Fatalf("corrupt cache entry not replaced: %v %v", dl, err)
	}

	for _, c := range []struct {
		name, path string
		size       int64
		sha        string
		want       string
	}{
		{"sha mismatch", "pool/a.deb", int64(len(body)), strings.Repeat("0", 64), "sha256"},
		{"interrupted", "pool/trunc.deb", int64(len(body)), sum(body) + "", "interrupted"},
		{"longer", "pool/long.deb", int64(len(body)), sum(body), "more than the"},
		{"404", "pool/missing.deb", 10, strings.Repeat("1", 64), "HTTP 404"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := &Fetcher{Client: f.Client, Mirror: f.Mirror, Cache: &Cache{Dir: t.TempDir()}}
			_, err := g.Fetch(ctx, c.path, c.size, c.sha)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if files := cacheFiles(t, g.Cache.Dir); len(files) != 0 {
				t.Fatalf("left behind: %v", files)
			}
		})
	}
	var sm *ShaMismatchError
	g := &Fetcher{Client: f.Client, Mirror: f.Mirror, Cache: &Cache{Dir: t.TempDir()}}
	if _, err := g.Fetch(ctx, "pool/a.deb", int64(len(body)), strings.Repeat("0", 64)); !errors.As(err, &sm) {
		t.Fatalf("not a ShaMismatchError: %v", err)
	}
	for _, bad := range []string{"ftp://x/debian", "not a url", "/local/path"} {
		g := &Fetcher{Mirror: bad, Cache: &Cache{Dir: t.TempDir()}}
		if _, err := g.Fetch(ctx, "pool/a.deb", 1, strings.Repeat("0", 64)); err == nil {
			t.Errorf("mirror %q accepted", bad)
		}
	}
}

// TestDataTarCache: the uncompressed data.tar is kept by sha256 and found
// again; a corrupted copy is caught by its hash while it is extracted, and
// the package is unpacked again from the .deb.
func TestDataTarCache(t *testing.T) {
	entries := []debtest.Entry{debtest.File("./usr/a", strings.Repeat("hello", 100))}
	data := debtest.Deb("pkg", "1.0", entries, "xz")
	m := &fakeMirror{files: map[string][]byte{"pool/pkg.deb": data}}
	f := startMirror(t, m)
	p := deb.LockedPackage{Name: "pkg", Version: "1.0", Architecture: "amd64", Filename: "pool/pkg.deb", Size: int64(len(data)), SHA256: sum(data)}
	ctx := context.Background()

	if _, _, ok := f.Cache.cachedDataTar(p.SHA256); ok {
		t.Fatal("empty cache has a data.tar")
	}
	tree, err := extractPackage(ctx, f, p, filepath.Join(t.TempDir(), "x"))
	if err != nil || tree.nodes["usr/a"] == nil {
		t.Fatal(err)
	}
	tarPath, tarSum, ok := f.Cache.cachedDataTar(p.SHA256)
	if !ok || tarSum != sum(debtest.Tar(entries)) {
		t.Fatalf("data.tar not cached under its sha256: %v %s", ok, tarSum)
	}
	// Warm: no request to the mirror.
	hits := m.hits.Load()
	if _, err := extractPackage(ctx, f, p, filepath.Join(t.TempDir(), "y")); err != nil || m.hits.Load() != hits {
		t.Fatalf("warm extraction: %v, %d requests", err, m.hits.Load()-hits)
	}
	// Corrupt the cached copy without changing its size.
	raw, _ := os.ReadFile(tarPath)
	raw[600] ^= 1
	os.WriteFile(tarPath, raw, 0o644)
	if _, err := extractVerified(tarPath, tarSum, "pkg", filepath.Join(t.TempDir(), "z")); !errors.Is(err, errCacheCorrupt) {
		t.Fatalf("corrupt cache: %v", err)
	}
	tree, err = extractPackage(ctx, f, p, filepath.Join(t.TempDir(), "w"))
	if err != nil || tree.nodes["usr/a"].SHA256 != sum([]byte(strings.Repeat("hello", 100))) {
		t.Fatalf("not recovered from a corrupt cache: %v", err)
	}
	// A broken .deb leaves no partial file in the cache.
	bad := filepath.Join(t.TempDir(), "bad.deb")
	os.WriteFile(bad, data[:len(data)-30], 0o644)
	before := len(cacheFiles(t, f.Cache.Dir))
	if _, _, err := f.Cache.dataTar(bad, sum(data[:len(data)-30]), nil); err == nil {
		t.Fatal("truncated deb accepted")
	}
	if after := len(cacheFiles(t, f.Cache.Dir)); after != before {
		t.Fatalf("cache grew from %d to %d files on a failure", before, after)
	}
}
