package deb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// DefaultKeyring is where Debian's archive-keyring package puts the keys
// that sign the archive's Release files.
const DefaultKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

// IndexFile is one file listed in a Release file's SHA256 field.
type IndexFile struct {
	Path   string
	Size   int64
	SHA256 string
}

// Release is the signed description of a suite.
type Release struct {
	Suite, Codename string
	Date            time.Time
	// ValidUntil is zero when the Release has no Valid-Until field
	// (stable releases do not).
	ValidUntil    time.Time
	Architectures []string
	Components    []string
	// NotAutomatic marks suites such as experimental that apt never
	// installs from unless asked to.
	NotAutomatic  bool
	AcquireByHash bool
	Files         map[string]IndexFile
	// Signer names the key that made the signature that was checked.
	Signer string
}

// ErrExpired wraps the error returned for a Release past its Valid-Until.
var ErrExpired = errors.New("release file expired")

// ReadKeyring reads an OpenPGP keyring, binary or ASCII-armored.
func ReadKeyring(r io.Reader) (openpgp.EntityList, error) {
	data, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, err
	}
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN PGP")) {
		return openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	}
	return openpgp.ReadKeyRing(bytes.NewReader(data))
}

// VerifyOptions sets how ParseInRelease checks a Release.
type VerifyOptions struct {
	Keyring openpgp.EntityList
	// Now is the time to check Valid-Until and key expiry against.
	Now time.Time
	// AllowExpired accepts a Release past its Valid-Until. The signature is
	// still checked.
	AllowExpired bool
}

// ParseInRelease checks the clear-signed InRelease data against the
// keyring and parses only the signed text. A missing or bad signature is
// always an error; an expired Release is one unless opts.AllowExpired.
func ParseInRelease(data []byte, opts VerifyOptions) (*Release, error) {
	if len(opts.Keyring) == 0 {
		return nil, errors.New("no keys to check the InRelease signature against")
	}
	block, rest := clearsign.Decode(data)
	if block == nil {
		return nil, errors.New("not a clear-signed OpenPGP message")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("data after the signature block")
	}
	cfg := &packet.Config{Time: func() time.Time { return opts.Now }}
	signer, err := block.VerifySignature(opts.Keyring, cfg)
	if err != nil {
		return nil, fmt.Errorf("bad signature: %w", err)
	}
	rel, err := parseRelease(block.Plaintext)
	if err != nil {
		return nil, err
	}
	for _, id := range signer.Identities {
		rel.Signer = id.Name
		break
	}
	if rel.Signer == "" && signer.PrimaryKey != nil {
		rel.Signer = signer.PrimaryKey.KeyIdString()
	}
	if rel.Date.IsZero() {
		return nil, errors.New("release has no Date field")
	}
	if !rel.ValidUntil.IsZero() && opts.Now.After(rel.ValidUntil) && !opts.AllowExpired {
		return rel, fmt.Errorf("%w: valid until %s, now %s; pass --allow-expired-release to accept it (the signature is still checked)",
			ErrExpired, rel.ValidUntil.UTC().Format(time.RFC1123), opts.Now.UTC().Format(time.RFC1123))
	}
	return rel, nil
}

// Expired reports whether r is past its Valid-Until at now.
func (r *Release) Expired(now time.Time) bool {
	return !r.ValidUntil.IsZero() && now.After(r.ValidUntil)
}

func parseRelease(text []byte) (*Release, error) {
	var p Paragraph
	n := 0
	err := ParseParagraphs(bytes.NewReader(text), ParseOptions{}, func(q Paragraph) error {
		n++
		p = q
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("release: %w", err)
	}
	if n != 1 {
		return nil, fmt.Errorf("release: %d paragraphs, want 1", n)
	}
	r := &Release{
		Suite:         p.Get("Suite"),
		Codename:      p.Get("Codename"),
		Architectures: strings.Fields(p.Get("Architectures")),
		Components:    strings.Fields(p.Get("Components")),
		NotAutomatic:  strings.EqualFold(p.Get("NotAutomatic"), "yes"),
		AcquireByHash: strings.EqualFold(p.Get("Acquire-By-Hash"), "yes"),
		Files:         map[string]IndexFile{},
	}
	if d := p.Get("Date"); d != "" {
		if r.Date, err = parseReleaseDate(d); err != nil {
			return nil, fmt.Errorf("release: Date: %w", err)
		}
	}
	if d := p.Get("Valid-Until"); d != "" {
		if r.ValidUntil, err = parseReleaseDate(d); err != nil {
			return nil, fmt.Errorf("release: Valid-Until: %w", err)
		}
	}
	for _, line := range strings.Split(p.Get("SHA256"), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("release: SHA256 line %q: want \"hash size path\"", line)
		}
		// The hash names by-hash URLs and cache files: hex digits only.
		if !isHexSHA256(strings.ToLower(f[0])) {
			return nil, fmt.Errorf("release: SHA256 line %q: hash is not 64 hex digits", line)
		}
		if err := checkRelPath(f[2]); err != nil {
			return nil, fmt.Errorf("release: SHA256 line %q: %w", line, err)
		}
		size, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("release: SHA256 line %q: bad size", line)
		}
		r.Files[f[2]] = IndexFile{Path: f[2], Size: size, SHA256: strings.ToLower(f[0])}
	}
	return r, nil
}

// parseReleaseDate reads the RFC 2822 dates of Release files, written in
// UTC with either a zone name or a numeric offset. The result must survive
// the lockfile, which writes it in UTC as RFC 1123: whole seconds (time.Parse
// would take a fraction) and a four-digit year.
func parseReleaseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC1123, time.RFC1123Z, "Mon, 2 Jan 2006 15:04:05 MST", "Mon, 2 Jan 2006 15:04:05 -0700"} {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		t = t.UTC()
		if t.Nanosecond() != 0 || t.Year() < 1 || t.Year() > 9999 {
			break
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 2822 date", s)
}
