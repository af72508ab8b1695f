// Command app is a cgo program: it reports the glibc it runs on.
package main

// #include <gnu/libc-version.h>
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

func main() {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "app:", err)
		os.Exit(1)
	}
	fmt.Printf("go_cgo: glibc %s\nexecutable=%s\n", glibcVersion(), exe)
}
