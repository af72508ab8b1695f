package sysroot

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rules-portable/rules_portable/tools/internal/deb"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
)

// DefaultCacheDir returns $XDG_CACHE_HOME/rules_portable or
// ~/.cache/rules_portable.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "rules_portable"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: set XDG_CACHE_HOME or pass --cache: %w", err)
	}
	return filepath.Join(home, ".cache", "rules_portable"), nil
}

// Cache stores files by their sha256 under Dir/sha256/<hex>. A file is
// visible under its final name only once its hash was checked, so an
// interrupted or corrupt download never looks like a cached one.
type Cache struct {
	Dir string
}

// Path is where the file with this sha256 lives in the cache.
func (c *Cache) Path(sum string) string {
	return filepath.Join(c.Dir, "sha256", sum)
}

// lookup returns the cached file for sum after checking its size and
// hash. A file that fails the check is removed, so the next fetch replaces
// it.
func (c *Cache) lookup(sum string, size int64) (string, bool) {
	p := c.Path(sum)
	f, err := os.Open(p)
	if err != nil {
		return "", false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || (size >= 0 && st.Size() != size) {
		os.Remove(p)
		return "", false
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil || hex.EncodeToString(h.Sum(nil)) != sum {
		os.Remove(p)
		return "", false
	}
	return p, true
}

// Fetcher downloads files from a Debian mirror into a Cache.
type Fetcher struct {
	Client   *http.Client
	Mirror   string // base URL of the archive, with or without a trailing slash
	Cache    *Cache
	Progress *Progress
	// Offline forbids downloads: a file missing from the cache is an error.
	Offline bool
}

// URL joins the mirror and a path relative to the archive root.
func (f *Fetcher) URL(rel string) (string, error) {
	base := strings.TrimRight(f.Mirror, "/")
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" && u.Scheme != "file" {
		return "", fmt.Errorf("mirror %q is not an absolute URL", f.Mirror)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("mirror %q: scheme %q is not http or https", f.Mirror, u.Scheme)
	}
	return base + "/" + rel, nil
}

// maxUnhashed bounds files fetched without a known size (InRelease).
const maxUnhashed = 32 << 20

// ShaMismatchError reports content that does not match the lock.
type ShaMismatchError struct {
	What, Got, Want string
}

func (e *ShaMismatchError) Error() string {
	return fmt.Sprintf("%s: sha256 %s, want %s; the mirror serves different bytes than the lock pins (nothing was kept)", e.What, e.Got, e.Want)
}

// Fetch returns the cached path of the file with this sha256 and size,
// downloading rel from the mirror when the cache does not have it. The
// download goes to a temp file that is renamed into place only after the
// size and hash match; on any failure nothing is left behind.
func (f *Fetcher) Fetch(ctx context.Context, rel string, size int64, sum string) (string, error) {
	p, _, err := f.FetchStatus(ctx, rel, size, sum)
	return p, err
}

// FetchStatus is Fetch that also reports whether the file was downloaded
// (true) or found in the cache (false).
func (f *Fetcher) FetchStatus(ctx context.Context, rel string, size int64, sum string) (string, bool, error) {
	if p, ok := f.Cache.lookup(sum, size); ok {
		return p, false, nil
	}
	if f.Offline {
		return "", false, fmt.Errorf("%s (sha256 %s) is not in the cache %s, and downloads are off (--offline)", rel, sum, f.Cache.Dir)
	}
	p, err := f.download(ctx, rel, size, sum)
	return p, err == nil, err
}

func (f *Fetcher) download(ctx context.Context, rel string, size int64, sum string) (string, error) {
	u, err := f.URL(rel)
	if err != nil {
		return "", err
	}
	final := f.Cache.Path(sum)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return "", fmt.Errorf("cache %s: %w", f.Cache.Dir, err)
	}
	tmp, err := fsutil.CreateTempFile(filepath.Dir(final), ".partial"+fsutil.TempInfix)
	if err != nil {
		return "", fmt.Errorf("cache %s: %w", f.Cache.Dir, err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
		fsutil.ForgetTemp(tmp.Name())
	}()
	h := sha256.New()
	n, err := f.get(ctx, u, io.MultiWriter(tmp, h), size)
	if err != nil {
		return "", err
	}
	if n < size {
		return "", fmt.Errorf("%s: got %d of %d bytes: truncated or interrupted download; nothing was kept", rel, n, size)
	}
	if n > size {
		return "", fmt.Errorf("%s: more than the %d bytes the lock pins; nothing was kept", rel, size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return "", &ShaMismatchError{What: rel, Got: got, Want: sum}
	}
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("%s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("%s: %w", tmp.Name(), err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", fmt.Errorf("cache %s: %w", f.Cache.Dir, err)
	}
	ok = true
	f.Progress.Itemf("fetched %s (%s)", filepath.Base(rel), humanSize(size))
	return final, nil
}

// FetchBytes downloads a small file whose hash is not known beforehand,
// such as InRelease, into memory.
func (f *Fetcher) FetchBytes(ctx context.Context, rel string) ([]byte, error) {
	u, err := f.URL(rel)
	if err != nil {
		return nil, err
	}
	var buf strings.Builder
	if _, err := f.get(ctx, u, &buf, -1); err != nil {
		return nil, err
	}
	return []byte(buf.String()), nil
}

// errNotFound marks a 404, so callers can fall back to another path.
var errNotFound = errors.New("not found on the mirror")

// get copies the body at u into w, reading at most want+1 bytes (or
// maxUnhashed when want < 0) so that a lying server cannot fill the disk.
func (f *Fetcher) get(ctx context.Context, u string, w io.Writer, want int64) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("fetch %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return 0, fmt.Errorf("fetch %s: %w (HTTP 404); is the mirror right, and does it still carry this file?", u, errNotFound)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("fetch %s: HTTP %s", u, resp.Status)
	}
	limit := want + 1
	if want < 0 {
		limit = maxUnhashed + 1
	}
	n, err := io.Copy(w, io.LimitReader(resp.Body, limit))
	if err != nil {
		return n, fmt.Errorf("fetch %s: after %d bytes: %w (interrupted download; nothing was kept)", u, n, err)
	}
	if want < 0 && n > maxUnhashed {
		return n, fmt.Errorf("fetch %s: larger than %d bytes", u, maxUnhashed)
	}
	return n, nil
}

// cachedDataTar finds the uncompressed data.tar recorded for the .deb
// with sha256 debSum. It checks only that the file exists with the
// recorded size; the caller hashes it while reading it.
func (c *Cache) cachedDataTar(debSum string) (path, sum string, ok bool) {
	b, err := os.ReadFile(filepath.Join(c.Dir, "data", debSum))
	if err != nil {
		return "", "", false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 || len(f[0]) != 64 {
		return "", "", false
	}
	size, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return "", "", false
	}
	p := c.Path(f[0])
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() || st.Size() != size {
		return "", "", false
	}
	return p, f[0], true
}

// forgetDataTar removes a cached data.tar and the record pointing at it.
func (c *Cache) forgetDataTar(debSum, tarSum string) {
	os.Remove(filepath.Join(c.Dir, "data", debSum))
	os.Remove(c.Path(tarSum))
}

// dataTar decompresses the data.tar of the .deb at debPath, whose sha256
// (already checked) is debSum, into the cache under its own sha256, records
// that under data/<debSum>, and returns its path and sha256. Decompressing
// xz is most of the work of a build, so a warm cache skips it.
//
// When use is not nil it reads the data.tar stream as it is decompressed
// (to unpack it in the same pass); what it leaves unread still goes to the
// cache, and an error from it keeps the cache unchanged. The file appears
// under its final name only complete and hashed, by a rename, so builds
// that share the cache never see a partial one; two builds decompressing
// the same package both write the same bytes to the same name.
func (c *Cache) dataTar(debPath, debSum string, use func(io.Reader) error) (string, string, error) {
	ptr := filepath.Join(c.Dir, "data", debSum)
	in, err := os.Open(debPath)
	if err != nil {
		return "", "", err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Join(c.Dir, "sha256"), 0o755); err != nil {
		return "", "", fmt.Errorf("cache %s: %w", c.Dir, err)
	}
	tmp, err := fsutil.CreateTempFile(filepath.Join(c.Dir, "sha256"), ".partial"+fsutil.TempInfix)
	if err != nil {
		return "", "", fmt.Errorf("cache %s: %w", c.Dir, err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
		fsutil.ForgetTemp(tmp.Name())
	}()
	h := sha256.New()
	// The tar reader reads headers 512 bytes at a time: buffer the copy.
	bw := bufio.NewWriterSize(tmp, 256<<10)
	var size int64
	sawData := false
	err = deb.WalkRaw(in, func(m deb.Member, r io.Reader) error {
		if m != deb.DataMember {
			return nil
		}
		sawData = true
		cw := &countingWriter{w: io.MultiWriter(bw, h)}
		tee := io.TeeReader(io.LimitReader(r, maxPackageSize+1), cw)
		if use != nil {
			if err := use(tee); err != nil {
				return err
			}
		}
		_, err := io.Copy(io.Discard, tee)
		size = cw.n
		if err == nil && size > maxPackageSize {
			return fmt.Errorf("data.tar decompresses to more than %d bytes", int64(maxPackageSize))
		}
		return err
	})
	if err != nil {
		return "", "", err
	}
	if !sawData {
		return "", "", errors.New("no data.tar")
	}
	if err := bw.Flush(); err != nil {
		return "", "", fmt.Errorf("cache %s: %w", c.Dir, err)
	}
	if err := tmp.Close(); err != nil {
		return "", "", err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", "", err
	}
	final := c.Path(sum)
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", "", fmt.Errorf("cache %s: %w", c.Dir, err)
	}
	ok = true
	if err := os.MkdirAll(filepath.Dir(ptr), 0o755); err != nil {
		return "", "", err
	}
	if err := fsutil.WriteBytesAtomic(ptr, 0o644, []byte(fmt.Sprintf("%s %d\n", sum, size))); err != nil {
		return "", "", err
	}
	return final, sum, nil
}

// countingWriter counts what goes through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
