// Package elf reads and rewrites the dynamic-linking parts of ELF files:
// the interpreter (PT_INTERP), the library list (DT_NEEDED), the search
// path (DT_RPATH, DT_RUNPATH), the SONAME and the symbol versions a file
// needs from each library (.gnu.version_r).
//
// It is its own bounded parser for untrusted input: every count and size
// read from the file is checked against the file's length before anything
// is allocated or read, so a lying header costs an error, never a panic or
// a large allocation. It works from the program headers and PT_DYNAMIC,
// translating addresses through the PT_LOAD segments, so stripped files
// without section headers and Go binaries read the same as any other.
// Section headers, when present, are checked for consistency and kept up
// to date by the writer, but never needed.
//
// ELF32 and ELF64, little- and big-endian, any machine. Non-fatal oddities
// (a relative PT_INTERP, two PT_INTERP headers, a PT_INTERP that no PT_LOAD
// maps, ...) are reported in File.Problems; everything else that does not
// add up is an error.
//
// The writer (Patch) changes PT_INTERP and DT_RPATH/DT_RUNPATH to strings
// of any length. It rewrites in place when the new string fits, and
// otherwise appends one new PT_LOAD segment at the end of the file for
// whatever had to move, keeping the program header table where old
// kernels expect it. A file that already carries such a segment has it
// rebuilt rather than a second one added, so patching is idempotent and
// never grows a file twice. See Patch for the layout.
package elf
