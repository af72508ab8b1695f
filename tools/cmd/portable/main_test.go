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
	if !strings.Contains(stderr, "Commands:") {
		t.Fatalf("no help on stderr: %q", stderr)
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
	_, _, err := runCLI(t, "version", "--nope")
	var ue usageError
	if !errors.As(err, &ue) {
		t.Fatalf("got %v", err)
	}
}
