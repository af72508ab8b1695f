#!/bin/sh
# Start-up cost of closed and checksum-enforced bundles: fork+exec+wait of
# `curl --version` and `python3 -c pass` bundled from this machine, in each
# variant, round-robin in one run (so background load hits all alike),
# p50 in milliseconds and the ratio to today's loader.
#
#   tests/bench/closed.sh [RUNS]        (default 300 runs per variant)
#
# Variants (each a separate bundle of the same program):
#   fallback      --host-libs fallback: the loader as glibc ships it, no
#                 audit module (what every bundle was before closing)
#   loader-only   the fallback bundle with the closed loader put in: the
#                 cost of the loader change alone, without the audit module
#   closed        the default: closed loader and libc, audit module
#   enforced      --enforce-checksums, stamps warm (the usual start)
#   enforced-ro   --enforce-checksums on a read-only bind mount: no stamp
#                 can be written, every object is hashed at every start
#
# Goals (issue #11): enforced/closed <= 1.10 for curl; closed/fallback
# not slower. Never fails on timing.
set -eu

runs=${1:-300}
repo=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "$0: needs root (read-only bind mount)" >&2; exit 1; }
for tool in gcc go mount /usr/bin/curl /usr/bin/python3; do
	command -v $tool >/dev/null || { echo "$0: $tool not found (Debian packages gcc, golang, curl, python3)" >&2; exit 1; }
done
work=$(mktemp -d)
cleanup() {
	umount "$work/ro-curl" "$work/ro-python3" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
if [ -n "${PORTABLE_BIN:-}" ]; then cp "$PORTABLE_BIN" "$work/portable"; else go build -o "$work/portable" "$repo/tools/cmd/portable"; fi
gcc -O2 -o "$work/spawn" "$repo/tests/bench/launcher/spawn.c"
p=$work/portable

for prog in curl python3; do
	src=/usr/bin/$prog
	add=
	[ $prog = python3 ] && add="--add /usr/lib/python3.11"
	# shellcheck disable=SC2086 # $add is two words or none
	{
		"$p" bundle -o "$work/fallback-$prog" --host-libs fallback $add "$src"
		"$p" bundle -o "$work/closed-$prog" $add "$src"
		"$p" bundle -o "$work/enforced-$prog" --enforce-checksums $add "$src"
	} 2>"$work/log" || { cat "$work/log" >&2; exit 1; }
	# loader-only: the fallback bundle with the closed bundle's loader.
	cp -a "$work/fallback-$prog" "$work/loader-only-$prog"
	cp "$work/closed-$prog"/lib/ld-linux-*.so.* "$work/loader-only-$prog/lib/"
	mkdir "$work/ro-$prog"
	cp -a "$work/enforced-$prog" "$work/enforced-copy-$prog"
	"$p" relocate "$work/enforced-copy-$prog" >/dev/null
	mount --bind -o ro "$work/enforced-copy-$prog" "$work/ro-$prog"
	for v in fallback closed loader-only enforced; do
		"$work/$v-$prog/bin/$prog" --version >/dev/null # first run: fix-up, stamps
	done
done

echo "closed-bundle start-up: $runs runs per variant, round-robin; $(nproc) CPUs, kernel $(uname -r)"
for prog in curl python3; do
	arg=--version
	[ $prog = python3 ] && arg="-c pass"
	"$work/spawn" "$runs" \
		fallback="$work/fallback-$prog/bin/$prog $arg" \
		loader-only="$work/loader-only-$prog/bin/$prog $arg" \
		closed="$work/closed-$prog/bin/$prog $arg" \
		enforced="$work/enforced-$prog/bin/$prog $arg" \
		enforced-ro="$work/ro-$prog/bin/$prog $arg" >"$work/times-$prog"
	awk -v prog=$prog '
		{ label[NR] = $1; p50[NR] = $2 / 1000; cpu[NR] = $5 / 1000; n = NR; if ($1 == "fallback") base = $2 / 1000; if ($1 == "closed") closed = $2 / 1000 }
		END {
			printf "%-8s %-12s %9s %9s %9s\n", prog, "variant", "p50 ms", "vs today", "cpu ms"
			for (i = 1; i <= n; i++)
				printf "%-8s %-12s %9.2f %8.2fx %9.2f\n", prog, label[i], p50[i], p50[i] / base, cpu[i]
			for (i = 1; i <= n; i++) if (label[i] == "enforced") e = p50[i]
			printf "%s: closed vs today %.2fx (goal: not slower), enforced vs closed %.2fx (goal <= 1.10 for curl)\n", prog, closed / base, e / closed
			printf "RESULT\t%s start-up, closed vs host-libs fallback (p50)\t%.2fms\t%.2fms\t%.3f\t<= 1.0\n", prog, closed, base, closed / base
			printf "RESULT\t%s start-up, enforced vs closed (p50)\t%.2fms\t%.2fms\t%.3f\t%s\n", prog, e, closed, e / closed, prog == "curl" ? "<= 1.10" : "-"
		}' "$work/times-$prog"
done
