#!/bin/sh
# The archiver of every portable_cc_toolchain: it runs the ar that
# PORTABLE_AR names (set by the toolchain: the bundled compiler's, by an
# execroot-relative path, or the build machine's).
exec "${PORTABLE_AR:?"PORTABLE_AR is not set: this driver runs only as a portable_cc_toolchain's archiver"}" "$@"
