package aptsrc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Types: deb\nURIs: http://a.example.invalid/debian\nSuites: bookworm\n", "http://a.example.invalid/debian"},
		{"URIs: http://a.example.invalid/debian http://b.example.invalid/debian\n", "http://a.example.invalid/debian"},
		{"# URIs: http://commented.example.invalid/\nURIs: https://c.example.invalid/d\n", "https://c.example.invalid/d"},
		{"# comment\ndeb [signed-by=/k.gpg arch=amd64] http://b.example.invalid/debian sid main\n", "http://b.example.invalid/debian"},
		{"deb [ arch=amd64 ] http://d.example.invalid/debian sid main\n", "http://d.example.invalid/debian"},
		{"deb-src http://src.example.invalid/debian sid main\ndeb http://e.example.invalid/debian sid main\n", "http://e.example.invalid/debian"},
		{"deb cdrom:[Debian]/ bookworm main\n", ""},
		{"deb [arch=amd64] /local/repo ./\n", ""},
		{"", ""},
		{"URIs:\n", ""},
	} {
		if got := Parse([]byte(c.in)); got != c.want {
			t.Errorf("Parse(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMirror(t *testing.T) {
	dir := t.TempDir()
	deb822 := filepath.Join(dir, "debian.sources")
	oneLine := filepath.Join(dir, "sources.list")
	empty := filepath.Join(dir, "empty")
	for p, s := range map[string]string{
		deb822:  "Types: deb\nURIs: http://a.example.invalid/debian\nSuites: bookworm\n",
		oneLine: "deb http://b.example.invalid/debian sid main\n",
		empty:   "# nothing\n",
	} {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	missing := filepath.Join(dir, "missing")
	for _, c := range []struct {
		files []string
		want  string
	}{
		{[]string{deb822, oneLine}, "http://a.example.invalid/debian"},
		{[]string{missing, oneLine}, "http://b.example.invalid/debian"},
		{[]string{empty, oneLine}, "http://b.example.invalid/debian"},
		{[]string{missing, empty}, ""},
	} {
		if got := Mirror(c.files); got != c.want {
			t.Errorf("Mirror(%s) = %q, want %q", strings.Join(c.files, ", "), got, c.want)
		}
	}
}

// TestThisMachine: the machines this project runs on name a mirror.
func TestThisMachine(t *testing.T) {
	if m := Mirror(Files()); !strings.Contains(m, "://") {
		t.Fatalf("no Debian mirror in %v (got %q): configure apt", Files(), m)
	}
}

// FuzzParse: any content gives "" or one whitespace-free word with a
// scheme, taken from the input.
func FuzzParse(f *testing.F) {
	f.Add([]byte("Types: deb\nURIs: http://a.example.invalid/debian\n"))
	f.Add([]byte("deb [signed-by=/k.gpg arch=amd64] http://b.example.invalid/debian sid main\n"))
	f.Add([]byte("deb [ arch=amd64 ] /x ./\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := Parse(data)
		if m == "" {
			return
		}
		if strings.ContainsAny(m, " \t\n\r") || !strings.Contains(string(data), m) {
			t.Fatalf("Parse(%q) = %q: not one word of the input", data, m)
		}
		if !strings.Contains(m, "://") && !strings.HasPrefix(strings.TrimSpace(string(data)), "URIs:") && !strings.Contains(string(data), "URIs:") {
			t.Fatalf("Parse(%q) = %q: no scheme", data, m)
		}
	})
}
