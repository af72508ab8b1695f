package deb

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/rules-portable/rules_portable/tools/internal/deb/debtest"
)

const testRelease = `Origin: Test
Suite: unstable
Codename: sid
Date: Fri, 30 Oct 2026 08:08:01 UTC
Valid-Until: Fri, 06 Nov 2026 08:08:01 UTC
Acquire-By-Hash: yes
Architectures: all amd64 arm64
Components: main contrib
SHA256:
 28476c952cd0732e0ba28e3c14fbb9a8beb412eb2b3cb96bf9d067d54caacf1b 10824484 main/binary-amd64/Packages.xz
 86e9f9811b3e1bb87755a0a3013400f444f8d78d5dbb221ebd2e280d307da43c  2160673 main/binary-amd64/Packages
`

func signTest(t *testing.T, e *openpgp.Entity, text string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := clearsign.Encode(&buf, e.PrivateKey, keyConfig())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, text)
	w.Close()
	return buf.Bytes()
}

// keyConfig dates keys and signatures before the Release's Date, as a
// real archive key would be.
func keyConfig() *packet.Config {
	return &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }}
}

func newKey(t *testing.T) *openpgp.Entity {
	t.Helper()
	e, err := openpgp.NewEntity("test archive", "", "archive@example.invalid", keyConfig())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestParseInRelease(t *testing.T) {
	key, other := newKey(t), newKey(t)
	ring := openpgp.EntityList{key}
	signed := signTest(t, key, testRelease)
	inTime := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	late := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

	rel, err := ParseInRelease(signed, VerifyOptions{Keyring: ring, Now: inTime})
	if err != nil {
		t.Fatal(err)
	}
	f := rel.Files["main/binary-amd64/Packages.xz"]
	if rel.Suite != "unstable" || rel.Codename != "sid" || !rel.AcquireByHash || f.Size != 10824484 ||
		f.SHA256 != "28476c952cd0732e0ba28e3c14fbb9a8beb412eb2b3cb96bf9d067d54caacf1b" || len(rel.Architectures) != 3 ||
		rel.Date != time.Date(2026, 10, 30, 8, 8, 1, 0, time.UTC) || rel.Signer == "" {
		t.Fatalf("release = %+v", rel)
	}

	if _, err := ParseInRelease(signed, VerifyOptions{Keyring: ring, Now: late}); !errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), "--allow-expired-release") {
		t.Errorf("expired: %v", err)
	}
	rel, err = ParseInRelease(signed, VerifyOptions{Keyring: ring, Now: late, AllowExpired: true})
	if err != nil || !rel.Expired(late) {
		t.Errorf("allow expired: %v", err)
	}

	// The signature is checked even when expiry is allowed.
	tampered := bytes.Replace(signed, []byte("10824484"), []byte("10824485"), 1)
	if _, err := ParseInRelease(tampered, VerifyOptions{Keyring: ring, Now: inTime, AllowExpired: true}); err == nil || !strings.Contains(err.Error(), "bad signature") {
		t.Errorf("tampered: %v", err)
	}
	if _, err := ParseInRelease(signed, VerifyOptions{Keyring: openpgp.EntityList{other}, Now: inTime}); err == nil {
		t.Error("signature by an unknown key accepted")
	}
	if _, err := ParseInRelease([]byte(testRelease), VerifyOptions{Keyring: ring, Now: inTime}); err == nil || !strings.Contains(err.Error(), "not a clear-signed") {
		t.Errorf("unsigned: %v", err)
	}
	if _, err := ParseInRelease(append(bytes.Clone(signed), "Suite: evil\n"...), VerifyOptions{Keyring: ring, Now: inTime}); err == nil {
		t.Error("data after the signature accepted")
	}
	if _, err := ParseInRelease(signed, VerifyOptions{Now: inTime}); err == nil {
		t.Error("empty keyring accepted")
	}
	noDate := signTest(t, key, strings.Replace(testRelease, "Date: Fri, 30 Oct 2026 08:08:01 UTC\n", "", 1))
	if _, err := ParseInRelease(noDate, VerifyOptions{Keyring: ring, Now: inTime}); err == nil {
		t.Error("Release without Date accepted")
	}
	badSum := signTest(t, key, testRelease+" zz 1 x\n")
	if _, err := ParseInRelease(badSum, VerifyOptions{Keyring: ring, Now: inTime}); err == nil {
		t.Error("bad SHA256 line accepted")
	}
}

// TestRealInRelease checks the real experimental InRelease from the
// machine's mirror against the Debian archive keyring.
func TestRealInRelease(t *testing.T) {
	kf, err := os.Open(DefaultKeyring)
	if err != nil {
		t.Fatalf("%v: install debian-archive-keyring", err)
	}
	ring, err := ReadKeyring(kf)
	kf.Close()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(strings.TrimRight(debtest.Mirror(t), "/") + "/dists/experimental/InRelease")
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %s", err, resp.Status)
	}
	rel, err := ParseInRelease(data, VerifyOptions{Keyring: ring, Now: time.Now(), AllowExpired: true})
	if err != nil {
		t.Fatal(err)
	}
	if rel.Suite != "experimental" || !rel.NotAutomatic || rel.Files["main/binary-amd64/Packages.xz"].SHA256 == "" || !strings.Contains(rel.Signer, "Debian") {
		t.Fatalf("release = %+v", rel.Suite)
	}
	bad := bytes.Replace(data, []byte("NotAutomatic: yes"), []byte("NotAutomatic: no!"), 1)
	if _, err := ParseInRelease(bad, VerifyOptions{Keyring: ring, Now: time.Now(), AllowExpired: true}); err == nil {
		t.Fatal("tampered real InRelease accepted")
	}
}

// isLowerHex64 is an independent check of a sha256 as the parsers store
// it: exactly 64 lower-case hex digits.
func isLowerHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// isPlainRelPath reports whether p, appended to a mirror URL or joined
// to a directory, stays below it: relative, clean, no ".." element, no
// backslash or NUL.
func isPlainRelPath(p string) bool {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || !filepath.IsLocal(p) || strings.ContainsAny(p, "\\\x00") {
		return false
	}
	return !slices.Contains(strings.Split(p, "/"), "..")
}

// checkDateRoundTrip requires a parsed Release date to be UTC and to come
// back unchanged from the RFC 1123 text the lockfile stores it as, read
// both by parseReleaseDate and by time.Parse (as sysroot.BuildMirror
// reads the lock).
func checkDateRoundTrip(t *testing.T, in string, d time.Time) {
	t.Helper()
	if d.Location() != time.UTC {
		t.Fatalf("%q: date %v is not in UTC", in, d)
	}
	s := d.Format(time.RFC1123)
	back, err := parseReleaseDate(s)
	if err != nil || !back.Equal(d) {
		t.Fatalf("%q: parsed as %v, written as %q, read back as %v (%v)", in, d, s, back, err)
	}
	if lock, err := time.Parse(time.RFC1123, s); err != nil || !lock.Equal(d) {
		t.Fatalf("%q: lockfile date %q reads back as %v (%v), want %v", in, s, lock, err, d)
	}
}

// FuzzParseRelease fuzzes the text inside the signature: what
// ParseInRelease parses once the signature has been checked.
func FuzzParseRelease(f *testing.F) {
	f.Add(testRelease)
	f.Add("Date: Sat, 2 Jan 2027 09:15:44 +0100\nNotAutomatic: yes\nSHA256:\n " + strings.Repeat("A", 64) + " 0 main/Release\n\n")
	f.Add("Suite: a\nSHA256: " + strings.Repeat("0", 64) + " 1 x\n")
	f.Add("Suite: a\n\nSuite: b\n")
	f.Fuzz(func(t *testing.T, in string) {
		rel, err := parseRelease([]byte(in))
		if err != nil {
			if rel != nil {
				t.Fatalf("%q: a Release and an error: %v", in, err)
			}
			return
		}
		for key, fi := range rel.Files {
			if key != fi.Path {
				t.Fatalf("%q: Files[%q] holds path %q", in, key, fi.Path)
			}
			if !isLowerHex64(fi.SHA256) {
				t.Fatalf("%q: %s: sha256 %q is not 64 lower-case hex digits", in, key, fi.SHA256)
			}
			if fi.Size < 0 {
				t.Fatalf("%q: %s: size %d", in, key, fi.Size)
			}
			if !isPlainRelPath(fi.Path) {
				t.Fatalf("%q: index path %q is not a plain relative path", in, fi.Path)
			}
			if !strings.Contains(in, fi.Path) || !strings.Contains(strings.ToLower(in), fi.SHA256) {
				t.Fatalf("%q: entry %+v is not in the input", in, fi)
			}
		}
		for _, w := range slices.Concat(rel.Architectures, rel.Components) {
			if w == "" || strings.ContainsAny(w, " \t\r\n") || !strings.Contains(in, w) {
				t.Fatalf("%q: architecture or component %q", in, w)
			}
		}
		for _, d := range []time.Time{rel.Date, rel.ValidUntil} {
			if !d.IsZero() {
				checkDateRoundTrip(t, in, d)
			}
		}
	})
}

func FuzzParseReleaseDate(f *testing.F) {
	for _, s := range []string{"Fri, 30 Oct 2026 08:08:01 UTC", "Sat, 2 Jan 2027 09:15:44 +0100", "Mon, 02 Jan 2006 15:04:05 GMT", "Fri, 31 Dec 9999 23:00:00 -0500", "Sat, 01 Jan 0000 00:30:00 +0100", "Fri, 30 Oct 2026 08:08:01.5 UTC"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d, err := parseReleaseDate(in)
		if err != nil {
			if !d.IsZero() {
				t.Fatalf("%q: date %v and an error: %v", in, d, err)
			}
			return
		}
		checkDateRoundTrip(t, in, d)
	})
}
