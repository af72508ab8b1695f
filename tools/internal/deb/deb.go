package deb

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/therootcompany/xz"
)

// maxControlSize bounds the control file of a package; real ones are a few
// KiB.
const maxControlSize = 4 << 20

// maxZstdWindow bounds the zstd decoder's memory. dpkg-deb uses windows of
// a few MiB.
const maxZstdWindow = 128 << 20

// maxXZDict bounds the xz decoder's dictionary: 64 MiB is what xz -9
// uses, the largest preset; dpkg-deb's default (-6) uses 8 MiB.
const maxXZDict = 64 << 20

// Member is a part of a .deb: the control archive or the data archive.
type Member int

const (
	ControlMember Member = iota
	DataMember
)

func (m Member) String() string {
	switch m {
	case ControlMember:
		return "control.tar"
	case DataMember:
		return "data.tar"
	}
	return fmt.Sprintf("Member(%d)", int(m))
}

// Walk reads a .deb from r and calls fn with a tar reader over the control
// archive and then over the data archive. It checks the container as
// dpkg-deb does: "debian-binary" first with format 2.x, then control.tar,
// then data.tar, each optionally compressed (.gz, .xz, .zst, .bz2), with
// members starting with '_' allowed in between and ignored. An error from
// fn stops the walk and is returned as is.
func Walk(r io.Reader, fn func(m Member, tr *tar.Reader) error) error {
	return WalkRaw(r, func(m Member, tarStream io.Reader) error {
		return fn(m, tar.NewReader(tarStream))
	})
}

// WalkRaw is Walk that hands fn the decompressed tar stream itself. After
// fn returns, the rest of the stream is read and checked, so a member cut
// short or failing its checksum is an error even when fn stopped early.
func WalkRaw(r io.Reader, fn func(m Member, tarStream io.Reader) error) error {
	ar, err := NewArReader(r)
	if err != nil {
		return err
	}
	h, err := ar.Next()
	if errors.Is(err, io.EOF) {
		return &FormatError{int64(len(arMagic)), "empty ar archive: no debian-binary member"}
	}
	if err != nil {
		return err
	}
	if h.Name != "debian-binary" {
		return &FormatError{h.Offset, fmt.Sprintf("first member is %q, want debian-binary", h.Name)}
	}
	vb, err := io.ReadAll(io.LimitReader(ar, 64))
	if err != nil {
		return err
	}
	if !strings.HasPrefix(string(vb), "2.") || !strings.HasSuffix(string(vb), "\n") {
		return &FormatError{h.Offset, fmt.Sprintf("unsupported package format %q (want 2.x)", strings.TrimSpace(string(vb)))}
	}
	want := ControlMember
	for want <= DataMember {
		h, err := ar.Next()
		if errors.Is(err, io.EOF) {
			return &FormatError{ar.off, fmt.Sprintf("no %s member", want)}
		}
		if err != nil {
			return err
		}
		if strings.HasPrefix(h.Name, "_") {
			continue
		}
		base := want.String()
		if h.Name != base && !strings.HasPrefix(h.Name, base+".") {
			return &FormatError{h.Offset, fmt.Sprintf("member %q where %s was expected", h.Name, base)}
		}
		dr, closeFn, err := decompressor(h.Name, ar)
		if err != nil {
			return &FormatError{h.Offset, fmt.Sprintf("%s: %v", h.Name, err)}
		}
		err = fn(want, dr)
		if err == nil {
			// Read the compressed stream to its end: the tar reader stops
			// at the end-of-archive blocks, but a stream cut after them, or
			// one whose checksum is wrong, must not pass.
			if _, derr := io.Copy(io.Discard, dr); derr != nil {
				err = &FormatError{h.Offset, fmt.Sprintf("%s: %v", h.Name, derr)}
			} else if ar.left > 0 {
				err = &FormatError{h.Offset, fmt.Sprintf("%s: %d bytes after the end of the compressed stream", h.Name, ar.left)}
			}
		}
		closeFn()
		if err != nil {
			return err
		}
		want++
	}
	return nil
}

// decompressor picks the decoder from the member's suffix.
func decompressor(name string, r io.Reader) (io.Reader, func(), error) {
	nop := func() {}
	switch {
	case strings.HasSuffix(name, ".tar"):
		return r, nop, nil
	case strings.HasSuffix(name, ".tar.gz"):
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nop, fmt.Errorf("gzip: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	case strings.HasSuffix(name, ".tar.xz"):
		return newXZReader(r)
	case strings.HasSuffix(name, ".tar.zst"):
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, nop, fmt.Errorf("zstd: %w", err)
		}
		return zr, zr.Close, nil
	case strings.HasSuffix(name, ".tar.bz2"):
		return bzip2.NewReader(r), nop, nil
	}
	return nil, nop, fmt.Errorf("unknown compression (want .tar, .tar.gz, .tar.xz, .tar.zst or .tar.bz2)")
}

// newXZReader decodes the xz stream in r. The decoder is
// github.com/therootcompany/xz (the XZ Embedded port first published as
// github.com/xi2/xz, with a go.mod and a CC0 licence): on the data.tar.xz
// members of this project's sysroots it takes about 0.6 of the CPU time
// of github.com/ulikunitz/xz (see BenchmarkXZDecode), which still makes
// the test packages because it can also compress. It checks the stream's
// CRC32, CRC64 or SHA-256 and its index as it reaches them.
func newXZReader(r io.Reader) (io.Reader, func(), error) {
	// The decoder reads its input 8 KiB at a time; a larger buffer saves
	// read calls on the .deb.
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		zr  *xz.Reader
		err error
	)
	if pooled, ok := xzReaders.Get().(*xz.Reader); ok {
		zr, err = pooled, pooled.Reset(br)
	} else {
		zr, err = xz.NewReader(br, maxXZDict)
	}
	if err != nil {
		return nil, func() {}, xzError(err)
	}
	done := func() {
		// Let go of the member before pooling the decoder.
		zr.Reset(bytes.NewReader(nil))
		xzReaders.Put(zr)
	}
	return xzErrReader{zr}, done, nil
}

// xzReaders keeps decoders for reuse: each holds a dictionary of the size
// the stream asks for (8 MiB for dpkg-deb's default), and allocating and
// zeroing one for every control.tar.xz and data.tar.xz was 7% of a cold
// sysroot build.
var xzReaders sync.Pool

// xzErrReader explains the decoder's errors.
type xzErrReader struct{ r *xz.Reader }

func (x xzErrReader) Read(p []byte) (int, error) {
	n, err := x.r.Read(p)
	if err != nil && err != io.EOF {
		err = xzError(err)
	}
	return n, err
}

// xzError says what an error of the xz decoder means for a .deb.
func xzError(err error) error {
	switch {
	case errors.Is(err, xz.ErrMemlimit):
		return fmt.Errorf("%w: the stream needs a dictionary larger than %d MiB (xz -9); the package was not made by dpkg-deb", err, maxXZDict>>20)
	case errors.Is(err, xz.ErrData), errors.Is(err, xz.ErrBuf), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: the compressed data is corrupt or cut short, so the .deb is damaged", err)
	case errors.Is(err, xz.ErrFormat), errors.Is(err, xz.ErrOptions), errors.Is(err, xz.ErrUnsupportedCheck):
		return fmt.Errorf("%w: not an xz stream this decoder reads (want LZMA2 with a CRC32, CRC64 or SHA-256 check)", err)
	}
	return err
}

// ReadControl returns the control paragraph of the .deb in r. It reads
// only up to the end of control.tar.
func ReadControl(r io.Reader) (Paragraph, error) {
	var (
		p     Paragraph
		found bool
	)
	errDone := errors.New("done")
	err := Walk(r, func(m Member, tr *tar.Reader) error {
		if m != ControlMember {
			return errDone
		}
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("control.tar: %w", err)
			}
			if strings.TrimPrefix(h.Name, "./") != "control" || h.Typeflag != tar.TypeReg {
				continue
			}
			if h.Size > maxControlSize {
				return fmt.Errorf("control.tar: control file of %d bytes is larger than %d", h.Size, maxControlSize)
			}
			data, err := io.ReadAll(io.LimitReader(tr, maxControlSize))
			if err != nil {
				return fmt.Errorf("control.tar: %w", err)
			}
			if p, err = ParseControl(data); err != nil {
				return fmt.Errorf("control: %w", err)
			}
			found = true
		}
		if !found {
			return errors.New("control.tar has no control file")
		}
		return errDone
	})
	if err != nil && !errors.Is(err, errDone) {
		return Paragraph{}, err
	}
	if !found {
		return Paragraph{}, errors.New("control.tar has no control file")
	}
	if err := checkPackageName(p.Get("Package")); err != nil {
		return Paragraph{}, fmt.Errorf("control: Package: %w", err)
	}
	return p, nil
}
