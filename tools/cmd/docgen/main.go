// Command docgen renders the ModuleInfo text proto that Bazel's native
// starlark_doc_extract rule writes into a Markdown API page:
//
//	docgen --title "rules_portable: rules" --repo rules_portable -o defs.md defs_extract.textproto
//
// docs/BUILD.bazel runs it for each public .bzl file and diff-tests the
// result against the checked-in docs/*.md. The output is written
// atomically: a bad input leaves an existing output file untouched.
//
// main only sets up logging and hands off to run, which returns an error
// instead of exiting, so the command is testable in-process.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/rules-portable/rules_portable/tools/internal/docgen"
	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
)

func main() {
	log.SetPrefix("docgen: ")
	log.SetFlags(0)
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		log.Print(err)
		os.Exit(1)
	}
}

const usage = `usage: docgen [--title TITLE] [--repo NAME] -o OUT.md IN.textproto

Renders IN.textproto, a ModuleInfo in protobuf text format as written by
Bazel's starlark_doc_extract rule (target NAME.textproto), as a
GitHub-flavoured Markdown page at OUT.md.

Example:

  bazel build //docs:defs_extract.textproto
  docgen --title "rules_portable: rules" --repo rules_portable \
      -o defs.md bazel-bin/docs/defs_extract.textproto

Flags:
`

func run(args []string) error {
	fs := flag.NewFlagSet("docgen", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, and -h prints below
	title := fs.String("title", "", "page title (the H1 heading); default: the module's label")
	repo := fs.String("repo", "", "repository name users load the module from, e.g. rules_portable;\nturns //pkg:file.bzl into @NAME//pkg:file.bzl in the usage blocks")
	out := fs.String("o", "", "output Markdown file (required)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fmt.Fprint(os.Stdout, usage)
			fs.PrintDefaults()
			return err
		}
		return fmt.Errorf("%w; run docgen -h for usage", err)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("want one input file, got %d arguments; usage: docgen [--title TITLE] [--repo NAME] -o OUT.md IN.textproto", fs.NArg())
	}
	if *out == "" {
		return fmt.Errorf("no output file; pass -o OUT.md")
	}
	if *repo != "" && !docgen.ValidRepoName(*repo) {
		return fmt.Errorf("--repo %q is not a repository name; use letters, digits and _ . - + ~, starting with a letter", *repo)
	}
	in := fs.Arg(0)
	data, err := readLimited(in, docgen.DefaultMaxBytes)
	if err != nil {
		return err
	}
	mi, err := docgen.ParseModuleInfo(in, data)
	if err != nil {
		return err
	}
	md := docgen.Render(mi, docgen.Options{Title: *title, Repo: *repo})
	return fsutil.WriteBytesAtomic(*out, 0o644, md)
}

// readLimited reads path, refusing files larger than limit bytes without
// reading more than limit+1 of them.
func readLimited(path string, limit int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > limit {
		return nil, fmt.Errorf("%s: larger than docgen's limit of %d bytes; is it really starlark_doc_extract output?", path, limit)
	}
	return data, nil
}
