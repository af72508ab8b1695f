#!/bin/sh
# Launcher overhead: fork+exec+wait of a C hello world through each way of
# starting a bundled program, measured side by side in one run (round-robin,
# so background load hits every mode alike), p50/p90 in microseconds.
#
#   tests/bench/launcher.sh [RUNS]      (default 3000 runs per mode; needs root
#                                       for the read-only bind mount)
#
# Modes:
#   direct          the relocated real ELF, bundle/libexec/hello (the floor)
#   direct-symlink  `portable relocate --direct`: bin/hello -> ../libexec/hello
#   floor           a freestanding static image that only execve's libexec/hello
#                   (built with the launcher's flags): the cost of any extra exec
#   fast-path       the launcher, slot fresh: one extra exec of a 10 KiB image
#   read-only       the launcher on a stale read-only bind mount: userland exec
#   exodus          static C launcher: exec ld.so --library-path lib libexec/hello
#   static-glibc    the fast path written with static glibc (readlink, pread, execve)
#   go              the fast path written in Go
#   shell           #!/bin/sh: exec "$(dirname ...)/../libexec/hello"
#
# Prints wall-clock p50/p90 and the child's median CPU time (user + system,
# which background load on a shared machine disturbs far less than wall
# time), and "fast path adds N us (goal < 60 us)". Never fails on timing;
# fails only when a mode can't be built or does not run.
set -eu

runs=${1:-3000}
repo=$(cd "$(dirname "$0")/../.." && pwd)
src=$repo/tests/bench/launcher
[ "$(id -u)" = 0 ] || { echo "$0: needs root (read-only bind mount)" >&2; exit 1; }
for tool in gcc go mount; do
	command -v $tool >/dev/null || { echo "$0: $tool not found" >&2; exit 1; }
done
if ! echo 'int main(void){return 0;}' | gcc -static -x c -o /dev/null - 2>/dev/null; then
	echo "$0: gcc -static fails: install libc6-dev" >&2
	exit 1
fi

work=$(mktemp -d)
ro=$work/ro
cleanup() {
	umount "$ro" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

if [ -n "${PORTABLE_BIN:-}" ]; then cp "$PORTABLE_BIN" "$work/portable"; else go build -o "$work/portable" "$repo/tools/cmd/portable"; fi
gcc -O2 -o "$work/spawn" "$src/spawn.c"
gcc -O2 -o "$work/hello" "$src/hello.c"

b=$work/b
"$work/portable" bundle -o "$b" "$work/hello" >/dev/null
"$work/portable" relocate "$b" >/dev/null

# The peers sit at the same depth as bin/ so they find the bundle the same way.
mkdir -p "$b/peers"
gcc -O2 -static -o "$b/peers/exodus" "$src/exodus.c"
gcc -O2 -static -o "$b/peers/static" "$src/static.c"
(cd "$repo" && CGO_ENABLED=0 go build -trimpath -o "$b/peers/go" ./tests/bench/launcher/golauncher)
# shellcheck disable=SC2046 # the flag lists are meant to be split into words
gcc $(sed -n '/^LAUNCHER_COPTS = \[/,/^]/p;/^LAUNCHER_LINKOPTS = \[/,/^]/p' "$repo/launcher/flags.bzl" |
	sed -n 's/^ *"\([^"]*\)",\{0,1\}$/\1/p') -I "$repo/launcher" -DTARGET="\"$b/libexec/hello\"" \
	-o "$b/peers/floor" "$src/floor.c"
cat >"$b/peers/shell" <<'SH'
#!/bin/sh
exec "$(dirname "$(dirname "$(readlink -f "$0")")")/libexec/hello" "$@"
SH
chmod +x "$b/peers/shell"

# A moved copy, read-only: the launcher must userland-exec.
cp -a "$b" "$work/copy"
mkdir "$ro"
mount --bind -o ro "$work/copy" "$ro"
# A copy relocated with --direct: bin/hello is a symlink to the real ELF.
cp -a "$b" "$work/direct"
"$work/portable" relocate --direct "$work/direct" >/dev/null

for m in "$b/libexec/hello" "$b/peers/floor" "$b/bin/hello" "$ro/bin/hello" "$work/direct/bin/hello" "$b/peers/exodus" "$b/peers/static" "$b/peers/go" "$b/peers/shell"; do
	out=$("$m")
	[ "$out" = hello ] || { echo "$0: $m printed '$out'" >&2; exit 1; }
done

echo "launcher overhead: C hello world, $runs runs per mode, round-robin; $(nproc) CPUs, kernel $(uname -r)"
"$work/spawn" "$runs" \
	direct="$b/libexec/hello" \
	direct-symlink="$work/direct/bin/hello" \
	floor="$b/peers/floor" \
	fast-path="$b/bin/hello" \
	read-only="$ro/bin/hello" \
	exodus="$b/peers/exodus" \
	static-glibc="$b/peers/static" \
	go="$b/peers/go" \
	shell="$b/peers/shell" >"$work/times"

awk '
	NR == 1 { base = $2; cbase = $5 }
	{ label[NR] = $1; p50[NR] = $2; p90[NR] = $3; cpu[NR] = $5; n = NR }
	END {
		printf "%-15s %9s %9s %10s %7s %9s %10s\n", "mode", "p50 us", "p90 us", "p50 added", "ratio", "cpu p50", "cpu added"
		for (i = 1; i <= n; i++)
			printf "%-15s %9.1f %9.1f %+10.1f %6.2fx %9.1f %+10.1f\n", label[i], p50[i], p90[i], p50[i] - base, p50[i] / base, cpu[i], cpu[i] - cbase
		for (i = 1; i <= n; i++) {
			if (label[i] == "fast-path") { fp = p50[i]; fc = cpu[i] }
			if (label[i] == "floor") { fl = p50[i]; flc = cpu[i] }
		}
		printf "fast path adds %.1f us wall (%.1f us CPU) over direct exec (goal < 60 us): %s\n", fp - base, fc - cbase, fp - base < 60 ? "met" : "missed"
		printf "of which the bare extra exec (floor) is %.1f us wall (%.1f us CPU), the launcher itself %.1f us wall (%.1f us CPU)\n", fl - base, flc - cbase, fp - fl, fc - flc
		for (i = 1; i <= n; i++) if (label[i] == "exodus") ex = p50[i]
		printf "RESULT\tlauncher start-up, added over direct exec (p50)\t%.1fus\t60us\t%.3f\t< 1.0 (60 us)\n", fp - base, (fp - base) / 60
		printf "RESULT\tlauncher start-up vs an exodus-style launcher (p50)\t%.1fus\t%.1fus\t%.3f\t< 1.0\n", fp, ex, fp / ex
	}' "$work/times"
