//go:build !amd64

package deps

// hostX86Flags reports no x86 features off amd64: the helper then assumes
// a baseline CPU of its own architecture.
func hostX86Flags() (vendor string, flags map[string]bool, ok bool) {
	return "", nil, false
}
