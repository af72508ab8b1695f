package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// env is what a subcommand may touch of the outside world. Tests pass
// buffers; main passes the real streams.
type env struct {
	stdout io.Writer
	stderr io.Writer
}

// command is one verb of the CLI. Each lives in its own cmd_<name>.go file.
type command struct {
	name    string
	summary string // one line, lower case, no full stop
	usage   string // argument synopsis, e.g. "[--json] FILE..."
	run     func(e *env, args []string) error
}

// commands lists every subcommand in the order `portable help` shows them.
func commands() []command {
	return []command{
		{name: "version", summary: "print the version of this helper", usage: "", run: runVersion},
		{name: "inspect", summary: "print interpreter, needed libraries, RPATH/RUNPATH and glibc versions of ELF files", usage: "[--json] FILE...", run: runInspect},
		{name: "patch", summary: "set the interpreter and RPATH/RUNPATH of an ELF file, in place or by growing it", usage: "[--set-interpreter P] [--set-rpath R | --set-runpath R] [--force-rpath] [--keep-origin] [--interp-slot N] [-o OUT] FILE", run: runPatch},
		{name: "deps", summary: "print the shared-library closure of ELF files as ld.so would load it, without running them", usage: "[--root DIR] [--json] [--library-path P] FILE...", run: runDeps},
		{name: "sysroot", summary: "lock, build, verify and check versioned sysroots made from pinned Debian packages", usage: "lock|build|verify|check [FLAGS] [ARGS]", run: runSysroot},
		{name: "compiler", summary: "bundle gcc and binutils from pinned Debian packages as a toolchain that runs on any glibc", usage: compilerUsage, run: runCompiler},
		{name: "bundle", summary: "pack programs, their library closure and launchers into a relocatable directory, tar or single-file .run", usage: bundleUsage, run: runBundle},
		{name: "image", summary: "write a bundle as an OCI image (layout directory or tar)", usage: imageUsage, run: runImage},
		{name: "verify", summary: "check a bundle or a single-file .run against its manifest", usage: "[--as PATH] DIR|FILE.run", run: runVerify},
		{name: "diff-closure", summary: "compare what a run of a bundle loaded with the bundle's closure", usage: diffClosureUsage, run: runDiffClosure},
		{name: "relocate", summary: "re-point a bundle's executables at its loader where it now lies", usage: "[--direct] [--as PATH] DIR", run: runRelocate},
		{name: "help", summary: "show help for portable or for one command", usage: "[COMMAND]", run: nil},
	}
}

// errHelpShown is returned when --help was asked for and printed: not a failure.
var errHelpShown = errors.New("help shown")

// usageError marks a mistake in how the command was called (exit status
// 2). main prints it as one line on stderr, then where to find help; the
// help text itself is printed only when asked for with --help.
type usageError struct {
	cmd string // the command whose --help to point at ("bundle", "sysroot lock"), or ""
	msg string
}

func (u usageError) Error() string { return u.msg }

// helpHint is the line printed after a usage error.
func (u usageError) helpHint() string {
	if u.cmd == "" {
		return "run 'portable --help' for usage"
	}
	return fmt.Sprintf("run 'portable %s --help' for usage", u.cmd)
}

func usagef(format string, args ...any) error {
	return usageError{msg: fmt.Sprintf(format, args...)}
}

func run(args []string, stdout, stderr io.Writer) error {
	e := &env{stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		return usagef("no command given")
	}
	name := args[0]
	switch name {
	case "-h", "--help", "-help", "help":
		if len(args) > 1 && name == "help" {
			c, ok := lookup(args[1])
			if !ok || c.run == nil {
				return usagef("unknown command %q", args[1])
			}
			// Let the command's own flag set print its flags.
			return c.run(e, []string{"--help"})
		}
		printHelp(stdout)
		return nil
	case "--version", "-version":
		return runVersion(e, nil)
	}
	c, ok := lookup(name)
	if !ok || c.run == nil {
		return usagef("unknown command %q", name)
	}
	err := c.run(e, args[1:])
	var ue usageError
	if errors.As(err, &ue) && ue.cmd == "" {
		ue.cmd = c.name
		return ue
	}
	return err
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, `portable frees Linux programs from the build machine's glibc.

It reads and patches ELF files (never running them), resolves library
closures inside a chosen root, builds versioned sysroots from pinned Debian
packages and packs relocatable bundles whose launcher keeps /proc/self/exe
right.

Usage:
  portable COMMAND [FLAGS] [ARGS]

Commands:
`)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprint(w, `
Run 'portable help COMMAND' or 'portable COMMAND --help' for the flags of one
command.

Environment: PORTABLE_DEBIAN_MIRROR (see 'portable help sysroot'); GOGC and
GOMEMLIMIT (by default the helper collects no garbage below 1 GiB of heap,
which makes large files faster; setting either restores Go's own rules).

Exit status: 0 on success, 1 on failure, 2 on a usage mistake.
`)
}

// newFlagSet returns a flag set that prints the command's own help on
// --help and reports parse errors as usage errors.
func newFlagSet(e *env, name, usage, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stdout)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: portable %s %s\n\n%s\n", name, usage, strings.TrimSpace(description))
		var hasFlags bool
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(e.stdout, "\nFlags:")
			// parseFlags silences the flag package's own messages; the
			// defaults go to stdout.
			fs.SetOutput(e.stdout)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
	}
	return fs
}

// parseFlags parses args into fs, mapping -h/--help to errHelpShown (after
// printing the help to stdout) and other mistakes to a one-line usageError:
// the flag package would print the whole help on any mistake.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = usage
	if errors.Is(err, flag.ErrHelp) {
		usage()
		return errHelpShown
	}
	if err != nil {
		return usageError{cmd: fs.Name(), msg: fmt.Sprintf("%s: %v", fs.Name(), err)}
	}
	return nil
}
