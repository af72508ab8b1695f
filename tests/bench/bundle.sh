#!/usr/bin/env bash
# Bundle creation, measured side by side in one run, rounds interleaved so
# background load hits both sides alike; the median round counts.
#
#   tests/bench/bundle.sh [RUNS]        (default 5)
#
# Cases: python3 with its standard library (--add /usr/lib/python3.11),
# git, curl, and perl with its library (--add /usr/share/perl/5.36).
#
# Peers:
#   cp -a     a plain copy of the bundle's own output directory (same files,
#             same bytes): `portable bundle -o DIR` should cost no more than
#             copying what it writes (goal: time ratio <= 1.0), although it
#             also resolves the closure, patches, hashes every file and
#             writes the manifest.
#   exodus    where EXODUS_CHECKOUT names a checkout of exodus (its code is
#             never part of this repository): `exodus --tarball` of the same
#             program and trees against our `.tar.gz` (goal: <= 0.1, i.e.
#             ten times faster). Without it, a plain ldd + cp + tar czf
#             baseline stands in, labelled as such. For git a second row
#             times `--gconv=no`: exodus packs no gconv modules, while our
#             default carries glibc's 255 (git calls iconv_open).
#
# Prints "RESULT<TAB>metric<TAB>ours<TAB>peer<TAB>ratio<TAB>goal" lines for
# tests/bench/run.
set -euo pipefail

runs=${1:-5}
repo=$(cd "$(dirname "$0")/../.." && pwd)
for tool in go ldd tar gzip cp; do
	command -v $tool >/dev/null || { echo "$0: $tool not found" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
portable=${PORTABLE_BIN:-}
if [ -z "$portable" ]; then
	portable=$work/portable
	(cd "$repo" && go build -o "$portable" ./tools/cmd/portable)
fi

exodus=()
if [ -n "${EXODUS_CHECKOUT:-}" ]; then
	[ -d "$EXODUS_CHECKOUT/src/exodus_bundler" ] || { echo "$0: EXODUS_CHECKOUT=$EXODUS_CHECKOUT has no src/exodus_bundler" >&2; exit 1; }
	exodus=(env "PYTHONPATH=$EXODUS_CHECKOUT/src" python3 -c 'import sys; from exodus_bundler.cli import main; sys.exit(main())')
fi

# baseline OUT PROG [DIR...]: copy PROG and what ldd lists for it into
# OUT/bin and OUT/lib, copy each DIR under OUT/lib with what ldd lists for
# its shared objects, then tar czf.
baseline() {
	local out=$1 prog=$2
	shift 2
	mkdir -p "$out/bin" "$out/lib"
	cp -L "$prog" "$out/bin/"
	local objs=("$prog") d
	for d in "$@"; do
		cp -a "$d" "$out/lib/"
		while IFS= read -r f; do objs+=("$f"); done < <(find "$d" -name '*.so*' -type f)
	done
	ldd "${objs[@]}" 2>/dev/null | awk '/^\t/ && $2 == "=>" && $3 ~ /^\// {print $3} /^\t\// {print $1}' | sort -u |
		while IFS= read -r lib; do cp -L "$lib" "$out/lib/"; done
	(cd "$(dirname "$out")" && tar czf "$out.tar.gz" "$(basename "$out")")
}

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

report() { # metric ours_ns peer_ns goal
	awk -v m="$1" -v o="$2" -v p="$3" -v g="$4" 'BEGIN {
		printf "%-44s ours %8.1f ms  peer %8.1f ms  ratio %.3f (goal %s)\n", m, o/1e6, p/1e6, o/p, g
		printf "RESULT\t%s\t%.3fs\t%.3fs\t%.3f\t%s\n", m, o/1e9, p/1e9, o/p, g }'
}

for case in python3+stdlib git curl perl; do
	case $case in
	python3+stdlib) prog=/usr/bin/python3 dirs=(/usr/lib/python3.11) lean=() ;;
	# git calls iconv_open, so its bundle carries glibc's 255 gconv
	# modules (8 of its 15 MB), which exodus leaves out: a second row
	# times the bundle without them (--gconv=no), the files exodus packs.
	git) prog=/usr/bin/git dirs=() lean=(--gconv=no) ;;
	curl) prog=/usr/bin/curl dirs=() lean=() ;;
	perl) prog=/usr/bin/perl dirs=(/usr/share/perl/5.36) lean=() ;;
	esac
	[ -e "$prog" ] || { echo "$0: $prog not found (install it: tests/host-packages.txt)" >&2; exit 1; }
	adds=()
	for d in "${dirs[@]}"; do adds+=(--add "$d"); done
	: >"$work/t.dir" ; : >"$work/t.cp" ; : >"$work/t.tgz" ; : >"$work/t.peer" ; : >"$work/t.lean"
	rm -rf "$work/src"
	for ((i = 0; i < runs; i++)); do
		rm -rf "$work/o" "$work/c" "$work/o.tar.gz" "$work/l.tar.gz" "$work/b" "$work/b.tar.gz" "$work/x.tgz"
		# cp -a copies a bundle made before its clock starts; the two
		# alternate which goes first, each after a sync, so that neither
		# pays for the other's writeback.
		[ -d "$work/src" ] || "$portable" bundle -o "$work/src" "${adds[@]}" "$prog" 2>/dev/null
		for side in $( ((i % 2)) && echo "cp ours" || echo "ours cp"); do
			sync
			t0=$(now)
			if [ "$side" = ours ]; then
				"$portable" bundle -o "$work/o" "${adds[@]}" "$prog" 2>/dev/null
			else
				cp -a "$work/src" "$work/c"
			fi
			t1=$(now)
			if [ "$side" = ours ]; then echo $((t1 - t0)) >>"$work/t.dir"; else echo $((t1 - t0)) >>"$work/t.cp"; fi
		done
		sync
		t0=$(now)
		"$portable" bundle -o "$work/o.tar.gz" "${adds[@]}" "$prog" 2>/dev/null
		t1=$(now)
		if [ ${#exodus[@]} -gt 0 ]; then
			extra=()
			for d in "${dirs[@]}"; do extra+=(--add "$d"); done
			"${exodus[@]}" --tarball -o "$work/x.tgz" "${extra[@]}" "$prog" >/dev/null 2>&1
		else
			baseline "$work/b" "$prog" "${dirs[@]}"
		fi
		t2=$(now)
		echo $((t1 - t0)) >>"$work/t.tgz"
		echo $((t2 - t1)) >>"$work/t.peer"
		if [ ${#lean[@]} -gt 0 ]; then
			sync
			t0=$(now)
			"$portable" bundle -o "$work/l.tar.gz" "${lean[@]}" "${adds[@]}" "$prog" 2>/dev/null
			t1=$(now)
			echo $((t1 - t0)) >>"$work/t.lean"
		fi
	done
	report "bundle $case -o DIR vs cp -a of it" "$(median <"$work/t.dir")" "$(median <"$work/t.cp")" "<= 1.0"
	if [ ${#exodus[@]} -gt 0 ]; then
		report "bundle $case .tar.gz vs exodus --tarball" "$(median <"$work/t.tgz")" "$(median <"$work/t.peer")" "<= 0.1"
		if [ ${#lean[@]} -gt 0 ]; then
			report "bundle $case ${lean[*]} .tar.gz vs exodus --tarball" "$(median <"$work/t.lean")" "$(median <"$work/t.peer")" "<= 0.1"
		fi
	else
		report "bundle $case .tar.gz vs ldd+cp+tar czf" "$(median <"$work/t.tgz")" "$(median <"$work/t.peer")" "<= 0.1 (exodus: set EXODUS_CHECKOUT)"
	fi
done
