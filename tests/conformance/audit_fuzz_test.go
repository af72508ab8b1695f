package conformance

import (
	"bufio"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// auditHarness runs launcher/audit.c's list parser with sanitizers
// (testdata/audit_harness.c), one request per input.
type auditHarness struct {
	in  io.WriteCloser
	out *bufio.Reader
}

func startAuditHarness(tb testing.TB) *auditHarness {
	tb.Helper()
	cmd := exec.Command(buildHarness(tb, "audit_harness", "AUDIT_HARNESS"))
	cmd.Env = append(os.Environ(), "ASAN_OPTIONS=detect_leaks=0")
	cmd.Stderr = os.Stderr
	h := &auditHarness{}
	var err error
	if h.in, err = cmd.StdinPipe(); err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	h.out = bufio.NewReader(stdout)
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.in.Close(); cmd.Wait() })
	return h
}

// parse returns parse_conf's result and what it counted: objects, host
// libraries, policy, enforce, anchors.
func (h *auditHarness) parse(tb testing.TB, data []byte) [6]int64 {
	tb.Helper()
	req := binary.LittleEndian.AppendUint32(nil, uint32(len(data)))
	if _, err := h.in.Write(append(req, data...)); err != nil {
		tb.Fatalf("the harness died (a sanitizer report is above): %v", err)
	}
	var r [6]int64
	if err := binary.Read(h.out, binary.LittleEndian, &r); err != nil {
		tb.Fatalf("the harness died on %q (a sanitizer report is above): %v", data, err)
	}
	return r
}

const auditSample = "portable-audit 1\nenforce\nhostlibs listed\nhostlib libGL.so.1\nplaceholder /.portable-unrelocated/lib/ld-linux-x86-64.so.2\n" +
	"anchor 1021 lib/gconv\n" +
	"object 7d53eb3df617656c17f456e1fb2df123ab0798d18fb677fc8aa9bab9a7e22074 215000 0 0 lib/ld-linux-x86-64.so.2\n" +
	"object 0fe867215810a7d7a4a7a58c8c8e81df2e06cb3a010a3096bcae91c2f65ee1dc 20262 16166 4096 libexec/dla\n"

// TestAuditListParser: what the bundler writes parses; damaged lists are
// refused (the module then refuses to run the program).
func TestAuditListParser(t *testing.T) {
	h := startAuditHarness(t)
	if r := h.parse(t, []byte(auditSample)); r != [6]int64{0, 2, 1, 1, 1, 1} {
		t.Errorf("sample: %v", r)
	}
	for _, bad := range []string{
		"",
		"portable-audit 2\n",
		auditSample[:len(auditSample)-1], // no final newline
		strings.Replace(auditSample, "20262 16166 4096", "20262 20000 4096", 1), // slot past the end
		strings.Replace(auditSample, "hostlibs listed", "hostlibs some", 1),
		strings.Replace(auditSample, " lib/gconv", " /lib/gconv", 1),
		strings.Replace(auditSample, "7d53eb", "7D53EB", 1),
		strings.Replace(auditSample, "215000 0 0", "99999999999999999999999 0 0", 1),
		auditSample + "surprise\n",
	} {
		if r := h.parse(t, []byte(bad)); r[0] == 0 {
			t.Errorf("accepted %q: %v", bad, r)
		}
	}
}

func FuzzAuditList(f *testing.F) {
	h := startAuditHarness(f)
	f.Add([]byte(auditSample))
	f.Add([]byte("portable-audit 1\nhostlibs never\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		r := h.parse(t, data)
		if r[0] == 0 && int64(strings.Count(string(data), "\nobject ")) != r[1] {
			t.Fatalf("accepted with %d objects, but %d object lines", r[1], strings.Count(string(data), "\nobject "))
		}
	})
}
