// Package runfile writes and reads single-file executables (.run): a
// small static runtime, then the bundle as one zstd-compressed payload,
// then a trailer that names the payload's size and sha256.
//
// This first part holds the tests of the runtime's zstd decoder
// (launcher/zstd.h): it must decode everything the payload's encoder
// (github.com/klauspost/compress/zstd) writes, and fail cleanly, never
// read or write out of bounds, on anything else.
package runfile
