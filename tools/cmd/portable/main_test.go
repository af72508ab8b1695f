package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(args, &out, &errb)
	return out.String(), errb.String(), err
}

func TestHelpListsEveryCommand(t *testing.T) {
	out, _, err := runCLI(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands() {
		if !strings.Contains(out, "  "+c.name+" ") {
			t.Errorf("help does not list %q:\n%s", c.name, out)
		}
	}
}

func TestVersion(t *testing.T) {
	out, _, err := runCLI(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "portable ") {
		t.Fatalf("version output %q", out)
	}
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	_, _, err := runCLI(t, "frobnicate")
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "frobnicate") {
		t.Fatalf("got %v, want usage error naming the command", err)
	}
}

func TestNoArgsIsUsageError(t *testing.T) {
	_, stderr, err := runCLI(t)
	var ue usageError
	if !errors.As(err, &ue) {
		t.Fatalf("got %v", err)
	}
	if stderr != "" {
		t.Fatalf("usage errors print nothing themselves (main prints one line): %q", stderr)
	}
	if ue.helpHint() != "run 'portable --help' for usage" {
		t.Fatalf("hint %q", ue.helpHint())
	}
}

func TestCommandHelp(t *testing.T) {
	for _, c := range commands() {
		if c.run == nil {
			continue
		}
		out, _, err := runCLI(t, c.name, "--help")
		if !errors.Is(err, errHelpShown) {
			t.Errorf("%s --help: err = %v", c.name, err)
		}
		if !strings.Contains(out, "Usage: portable "+c.name) {
			t.Errorf("%s --help output: %q", c.name, out)
		}
	}
}

func TestBadFlagIsUsageError(t *testing.T) {
	for _, args := range [][]string{{"version", "--nope"}, {"bundle", "--nope", "/bin/true"}, {"sysroot", "lock", "--nope"}} {
		stdout, stderr, err := runCLI(t, args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Fatalf("%q: got %v", args, err)
		}
		// One prefix (main adds "portable: "), no help text anywhere, and a
		// hint naming the command.
		if strings.HasPrefix(err.Error(), "portable") || stdout != "" || stderr != "" {
			t.Errorf("%q: err %q, stdout %q, stderr %q", args, err, stdout, stderr)
		}
		want := "run 'portable " + strings.Join(args[:len(args)-1], " ") + " --help' for usage"
		if args[0] == "bundle" {
			want = "run 'portable bundle --help' for usage"
		}
		if ue.helpHint() != want {
			t.Errorf("%q: hint %q, want %q", args, ue.helpHint(), want)
		}
	}
}
