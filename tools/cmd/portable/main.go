// Command portable is the rules_portable helper: it inspects and patches ELF
// files, resolves library closures without running anything, builds
// versioned sysroots from pinned Debian packages and packs relocatable
// bundles. Bazel rules call it as an action tool; people without Bazel run
// it directly:
//
//	portable bundle /usr/bin/curl -o curl.tar.gz
//
// main only sets up logging and hands off to run, which returns an error
// instead of exiting, so every subcommand is testable in-process.
package main

import (
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/rules-portable/rules_portable/tools/internal/fsutil"
)

// memoryLimit is the heap size at which the garbage collector starts; below
// it, none runs (see tuneGC).
const memoryLimit = 1 << 30

func main() {
	log.SetPrefix("portable: ")
	log.SetFlags(0)
	tuneGC()
	cleanUpOnSignal()
	stop := profile()
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if fsutil.Interrupted() {
		// The signal handler is removing what the run wrote and will exit
		// 130 or 143; the failures that removal causes here are not news.
		select {}
	}
	if err != nil {
		if errors.Is(err, errHelpShown) {
			os.Exit(0)
		}
		var ue usageError
		if errors.As(err, &ue) {
			log.Print(ue)
			fmt.Fprintln(os.Stderr, ue.helpHint())
			os.Exit(2)
		}
		log.Print(err)
		os.Exit(1)
	}
}

// profile writes a CPU profile of the run to $PORTABLE_CPUPROFILE, when
// set, for `go tool pprof` (tests/bench/README.md).
func profile() (stop func()) {
	path := os.Getenv("PORTABLE_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		log.Printf("PORTABLE_CPUPROFILE=%s: %v; running without a profile", path, err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// tuneGC turns the collector off below memoryLimit, unless the user set
// GOGC or GOMEMLIMIT. The helper is a short-lived batch process whose heap is
// mostly a few large byte slices (whole ELF files and their patched copies).
// With Go's defaults, reading a 100 MB program starts a collection at once,
// and it spins signalling the goroutine that is copying the file, which
// cannot be preempted inside memmove: patching such a file took 2-3 times as
// long as with the collector off. Memory stays bounded: past the limit the
// collector runs as usual.
func tuneGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(memoryLimit)
}

// cleanUpOnSignal makes SIGINT and SIGTERM remove every temp file and
// staging directory the run made (outputs appear only by rename, so none
// is half-written) and exit 130 or 143, as a shell reports a death by
// those signals. What SIGKILL leaves, the next run on the same output
// removes (fsutil.RemoveStale).
func cleanUpOnSignal() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		if fsutil.RemoveTemps() {
			fmt.Fprintf(os.Stderr, "portable: interrupted by %v after its output was complete and in place\n", s)
		} else {
			fmt.Fprintf(os.Stderr, "portable: interrupted by %v; removed its temp files, wrote nothing\n", s)
		}
		os.Exit(128 + int(s.(syscall.Signal)))
	}()
}
