// Package deb reads Debian binary packages and archive metadata, and
// resolves package dependencies into a lockfile.
//
// It covers what a sysroot builder needs and nothing more:
//
//   - the ar container of a .deb (ArReader), its control.tar and its
//     data.tar compressed with xz, zstd, gzip or nothing (Walk, ReadControl);
//   - deb822 control paragraphs, as used by control files, Packages indexes
//     and Release files (ParseParagraphs);
//   - Debian version comparison exactly as Debian policy §5.6.12 describes
//     it (ParseVersion, CompareVersions);
//   - relationship fields such as Depends and Provides, with alternatives,
//     version constraints and architecture qualifiers (ParseRelations);
//   - InRelease files, whose OpenPGP signature is checked against a keyring
//     before a single field is trusted (ParseInRelease);
//   - dependency resolution over one or more Packages indexes (Universe)
//     and the lockfile it produces (Lockfile).
//
// Nothing here touches the network or the file system beyond the readers it
// is handed; fetching and caching live in package sysroot.
//
// The decompressors come from github.com/therootcompany/xz (xz; chosen
// over github.com/ulikunitz/xz for speed, see newXZReader) and
// github.com/klauspost/compress. A .deb reaches them only after its sha256
// has been checked against a lock whose hashes come from a signed index, so
// the bytes they see are the archive's.
package deb
