// Command app is a cgo program: it reports the glibc it runs on.
package main

// #include <gnu/libc-version.h>
// #include <stdio.h>
// static int glibc_headers_minor(void) { return __GLIBC_MINOR__; }
import "C"

import (
	"fmt"
	"os"
)

// glibcVersion asks the C library that is really loaded, not the one the
// program was built against.
func glibcVersion() string {
	return C.GoString(C.gnu_get_libc_version())
}

// glibcHeaders is the glibc whose headers the cgo code was compiled
// against: the sysroot's, when the program is built for its platform.
func glibcHeaders() string {
	return fmt.Sprintf("2.%d", int(C.glibc_headers_minor()))
}

func main() {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "app:", err)
		os.Exit(1)
	}
	fmt.Printf("go_cgo: glibc %s\nexecutable=%s\n", glibcVersion(), exe)
}
