// Package aptsrc finds the Debian mirror that this machine's apt uses, so
// that rules_portable and its tests fetch from the mirror the machine is
// configured for and no mirror host is ever written into the repository.
//
// It reads the deb822 file of current Debian releases
// (/etc/apt/sources.list.d/debian.sources, `URIs:` lines) and then the
// one-line format (/etc/apt/sources.list, `deb [options] URI suite ...`).
// rules/private/debian_repository.bzl reads the same files the same way,
// because a repository rule cannot call Go.
package aptsrc

import (
	"os"
	"strings"
)

// Files are where apt keeps this machine's Debian mirror, in the order they
// are read.
func Files() []string {
	return []string{"/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"}
}

// Mirror returns the first mirror URL named in files (see Parse), "" when
// none of them names one. Files that can't be read are passed over.
func Mirror(files []string) string {
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if m := Parse(data); m != "" {
			return m
		}
	}
	return ""
}

// Parse returns the first mirror URL in the content of one apt sources
// file, in either format: the first URI of a `URIs:` field (deb822), or the
// URI of a `deb` line, past any `[options]` (one-line format). Comments and
// `deb-src` lines are ignored. It returns "" when there is none.
func Parse(data []byte) string {
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) >= 2 && fields[0] == "URIs:":
			return fields[1]
		case len(fields) >= 3 && fields[0] == "deb":
			inOptions := false
			for _, f := range fields[1:] {
				switch {
				case inOptions || strings.HasPrefix(f, "["):
					inOptions = !strings.HasSuffix(f, "]")
				case strings.Contains(f, "://"):
					return f
				default:
					// The first word after the options is the URI; one
					// without a scheme is not a mirror to fetch from.
					return ""
				}
			}
		}
	}
	return ""
}
