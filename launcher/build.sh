#!/bin/sh
# Builds the launcher from launcher.c with the pinned flags of flags.bzl,
# with --audit the rtld-audit module from audit.c, or with --run the
# single-file runtime from run.c.
#
#   launcher/build.sh [--arch x86_64|aarch64] [--cc COMPILER] [--audit|--run] -o OUT
#
# The compiler runs inside launcher/ on relative paths, so no absolute path
# reaches the output; with the same compiler the bytes are the same on every
# run. The checked-in copies in tools/internal/launcherbin were built with
# Debian 12's gcc 12 (gcc, gcc-aarch64-linux-gnu):
#
#   launcher/build.sh --arch x86_64 -o tools/internal/launcherbin/launcher_amd64
#   launcher/build.sh --arch aarch64 -o tools/internal/launcherbin/launcher_arm64
#   launcher/build.sh --arch x86_64 --audit -o tools/internal/launcherbin/audit_amd64.so
#   launcher/build.sh --arch aarch64 --audit -o tools/internal/launcherbin/audit_arm64.so
#   launcher/build.sh --arch x86_64 --run -o tools/internal/launcherbin/run_amd64
#   launcher/build.sh --arch aarch64 --run -o tools/internal/launcherbin/run_arm64
set -eu

here=$(cd "$(dirname "$0")" && pwd)
arch=$(uname -m)
cc=
out=
what=LAUNCHER
src=launcher.c
budget=16384

usage() {
	echo "usage: $0 [--arch x86_64|aarch64] [--cc COMPILER] [--audit|--run] -o OUT" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--arch) [ $# -ge 2 ] || usage; arch=$2; shift 2 ;;
	--cc) [ $# -ge 2 ] || usage; cc=$2; shift 2 ;;
	-o) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
	--audit) what=AUDIT; src=audit.c; budget=32768; shift ;;
	--run) what=RUN; src=run.c; budget=32768; shift ;;
	*) usage ;;
	esac
done
[ -n "$out" ] || usage

case $arch in
x86_64 | amd64) arch=x86_64; cross=x86_64-linux-gnu-gcc ;;
aarch64 | arm64) arch=aarch64; cross=aarch64-linux-gnu-gcc ;;
*) echo "$0: unsupported architecture $arch (want x86_64 or aarch64)" >&2; exit 2 ;;
esac
if [ -z "$cc" ]; then
	if [ "$(uname -m)" = "$arch" ]; then cc=gcc; else cc=$cross; fi
fi
command -v "$cc" >/dev/null 2>&1 || {
	echo "$0: compiler $cc not found; install gcc (or gcc-aarch64-linux-gnu for --arch aarch64)" >&2
	exit 1
}

# flags NAME prints the quoted list items of NAME = [ ... ] in flags.bzl.
# A list given as another's name (NAME = OTHER) is OTHER's.
flags() {
	other=$(sed -n "s/^$1 = \([A-Z_]*\)\$/\1/p" "$here/flags.bzl")
	if [ -n "$other" ]; then
		flags "$other"
		return
	fi
	sed -n "/^$1 = \[/,/^]/p" "$here/flags.bzl" | sed -n 's/^ *"\([^"]*\)",\{0,1\}$/\1/p'
}
copts=$(flags ${what}_COPTS)
linkopts=$(flags ${what}_LINKOPTS)
[ -n "$copts" ] && [ -n "$linkopts" ] || { echo "$0: no flags found in $here/flags.bzl" >&2; exit 1; }

case $out in /*) ;; *) out=$(pwd)/$out ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$here"
# shellcheck disable=SC2086 # the flag lists are meant to be split into words
LC_ALL=C "$cc" $copts $linkopts -o "$tmp/launcher" "$src"

size=$(wc -c <"$tmp/launcher")
if [ "$size" -gt "$budget" ]; then
	echo "$0: $src gave $size bytes, over the budget of $budget" >&2
	exit 1
fi
# Replace OUT atomically: copy next to it, then rename.
cp "$tmp/launcher" "$out.tmp.$$"
chmod 0755 "$out.tmp.$$"
mv -f "$out.tmp.$$" "$out"
