package runfile

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/rules-portable/rules_portable/tools/internal/archive"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
	"github.com/rules-portable/rules_portable/tools/internal/manifest"
)

// TrailerSize is the size of the trailer that ends every .run file.
const TrailerSize = 128

// Ext is the file name extension that selects a single-file output.
const Ext = ".run"

// maxEntry bounds the entry point's name in the trailer.
const maxEntry = 56

// align is where the payload starts: the runtime is padded to it.
const align = 4096

// magic opens the trailer (launcher/run.c, RUN_MAGIC).
var magic = [16]byte{'P', 'O', 'R', 'T', 'A', 'B', 'L', 'E', '-', 'R', 'U', 'N', 0, 0, 0, 1}

// Trailer is the last TrailerSize bytes of a .run file: where its payload
// is, how large the tar inside it is, the payload's sha256 (also the name
// of its unpacked copy in the cache) and the entry point, bin/Entry.
type Trailer struct {
	PayloadOffset uint64
	PayloadSize   uint64
	TarSize       uint64
	Sum           [32]byte
	Entry         string
}

// MarshalBinary encodes t as launcher/run.c reads it.
func (t Trailer) MarshalBinary() ([]byte, error) {
	if t.Entry == "" || len(t.Entry) > maxEntry || strings.ContainsAny(t.Entry, "/\x00") {
		return nil, fmt.Errorf("entry point %q: want a program name of 1 to %d bytes, no slash", t.Entry, maxEntry)
	}
	b := make([]byte, TrailerSize)
	copy(b, magic[:])
	binary.LittleEndian.PutUint64(b[16:], t.PayloadOffset)
	binary.LittleEndian.PutUint64(b[24:], t.PayloadSize)
	binary.LittleEndian.PutUint64(b[32:], t.TarSize)
	copy(b[40:72], t.Sum[:])
	copy(b[72:], t.Entry)
	return b, nil
}

// ErrNotRun is wrapped by ReadTrailer's error for a file that is not a
// .run file at all.
var ErrNotRun = errors.New("not a single-file executable (no portable-run trailer)")

// ReadTrailer reads and checks the trailer of the .run file f of the
// given size.
func ReadTrailer(f io.ReaderAt, size int64) (Trailer, error) {
	var t Trailer
	if size < TrailerSize {
		return t, ErrNotRun
	}
	b := make([]byte, TrailerSize)
	if _, err := f.ReadAt(b, size-TrailerSize); err != nil {
		return t, err
	}
	if !bytes.Equal(b[:16], magic[:]) {
		return t, ErrNotRun
	}
	t.PayloadOffset = binary.LittleEndian.Uint64(b[16:])
	t.PayloadSize = binary.LittleEndian.Uint64(b[24:])
	t.TarSize = binary.LittleEndian.Uint64(b[32:])
	copy(t.Sum[:], b[40:72])
	t.Entry = string(bytes.TrimRight(b[72:], "\x00"))
	end := uint64(size) - TrailerSize
	if t.PayloadOffset > end || t.PayloadSize > end-t.PayloadOffset {
		return t, fmt.Errorf("corrupt trailer: payload of %d bytes at %d runs past the trailer at %d", t.PayloadSize, t.PayloadOffset, end)
	}
	if t.Entry == "" || strings.ContainsAny(t.Entry, "/\x00") {
		return t, fmt.Errorf("corrupt trailer: entry point %q", t.Entry)
	}
	return t, nil
}

// Options are the choices of Write.
type Options struct {
	// Archive is passed to the tar writer (mtime, no prefix).
	Archive archive.Options
	// Level is the zstd level; the zero value is the best compression.
	Level zstd.EncoderLevel
}

// Write writes the bundle directory dir as the single-file executable out:
// runtime (for the bundle's machine), padding, payload, trailer. entry is
// the program the file runs (bin/entry in the bundle). The output is
// written atomically with mode 0755; the same inputs give the same bytes.
func Write(out string, runtime []byte, dir, entry string, opts Options) error {
	p, err := WritePending(out, runtime, dir, entry, opts)
	if err != nil {
		return err
	}
	return p.Commit()
}

// WritePending is Write up to the rename: the caller commits it (with
// other outputs, in one step) or aborts it.
func WritePending(out string, runtime []byte, dir, entry string, opts Options) (*fsutil.Pending, error) {
	if st, err := os.Stat(dir + "/bin/" + entry); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: the bundle has no bin/%s to run", dir, entry)
	}
	var tar bytes.Buffer
	if err := archive.WriteDir(&tar, dir, opts.Archive); err != nil {
		return nil, err
	}
	return writeTar(out, runtime, tar.Bytes(), entry, opts)
}

// WritePendingEntries is WritePending for a bundle given as archive
// entries (archive.WriteEntries) rather than a directory.
func WritePendingEntries(out string, runtime []byte, entries []archive.Entry, entry string, opts Options) (*fsutil.Pending, error) {
	if !slices.ContainsFunc(entries, func(e archive.Entry) bool {
		return e.Name == "bin/"+entry && (e.Type == archive.TypeFile || e.Type == archive.TypeHardlink)
	}) {
		return nil, fmt.Errorf("%s: the bundle has no bin/%s to run", out, entry)
	}
	var tar bytes.Buffer
	if err := archive.WriteEntries(&tar, entries, opts.Archive); err != nil {
		return nil, err
	}
	return writeTar(out, runtime, tar.Bytes(), entry, opts)
}

// writeTar stages the .run file out of runtime and the bundle's tar.
func writeTar(out string, runtime, tar []byte, entry string, opts Options) (*fsutil.Pending, error) {
	level := opts.Level
	if level == 0 {
		level = zstd.SpeedBestCompression
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderCRC(false),
		zstd.WithWindowSize(zstd.MaxWindowSize), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	payload := enc.EncodeAll(tar, nil)
	pad := (align - len(runtime)%align) % align
	t := Trailer{
		PayloadOffset: uint64(len(runtime) + pad),
		PayloadSize:   uint64(len(payload)),
		TarSize:       uint64(len(tar)),
		Sum:           sha256.Sum256(payload),
		Entry:         entry,
	}
	tb, err := t.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return fsutil.StageFile(out, 0o755, nil, func(w io.Writer) error {
		for _, b := range [][]byte{runtime, make([]byte, pad), payload, tb} {
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return nil
	})
}

// Tar returns the tar inside the .run file at path, checked against the
// trailer's sha256.
func Tar(path string) ([]byte, Trailer, error) {
	f, st, err := fsutil.OpenInput("", path, 0)
	if err != nil {
		return nil, Trailer{}, err
	}
	defer f.Close()
	t, err := ReadTrailer(f, st.Size())
	if err != nil {
		return nil, t, fmt.Errorf("%s: %w", path, err)
	}
	payload := make([]byte, t.PayloadSize)
	if _, err := f.ReadAt(payload, int64(t.PayloadOffset)); err != nil {
		return nil, t, fmt.Errorf("%s: read the payload: %w", path, err)
	}
	if sha256.Sum256(payload) != t.Sum {
		return nil, t, fmt.Errorf("%s: the payload's sha256 does not match its trailer: the file is damaged", path)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(t.TarSize+1), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, t, err
	}
	defer dec.Close()
	tar, err := dec.DecodeAll(payload, make([]byte, 0, t.TarSize))
	if err != nil {
		return nil, t, fmt.Errorf("%s: decode the payload: %w", path, err)
	}
	if uint64(len(tar)) != t.TarSize {
		return nil, t, fmt.Errorf("%s: the payload holds %d bytes of tar, the trailer says %d", path, len(tar), t.TarSize)
	}
	return tar, t, nil
}

// Manifest returns the bundle manifest inside the .run file at path,
// read without running it.
func Manifest(path string) (*manifest.Manifest, Trailer, error) {
	data, t, err := Tar(path)
	if err != nil {
		return nil, t, err
	}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, t, fmt.Errorf("%s: the payload has no %s", path, manifest.Path)
		}
		if err != nil {
			return nil, t, fmt.Errorf("%s: the payload's tar: %w", path, err)
		}
		if strings.TrimPrefix(h.Name, "./") != manifest.Path || h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, 256<<20))
		if err != nil {
			return nil, t, fmt.Errorf("%s: %s: %w", path, manifest.Path, err)
		}
		m, err := manifest.Parse(b)
		if err != nil {
			return nil, t, fmt.Errorf("%s: %s: %w", path, manifest.Path, err)
		}
		return m, t, nil
	}
}

// Extract unpacks the bundle inside the .run file at path into dest,
// which must not exist (what FILE.run --portable-extract DIR does, with
// the checks of archive.Extract).
func Extract(path, dest string) (Trailer, error) {
	data, t, err := Tar(path)
	if err != nil {
		return t, err
	}
	return t, archive.Extract(bytes.NewReader(data), dest, archive.ExtractOptions{})
}
