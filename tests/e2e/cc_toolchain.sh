#!/usr/bin/env bash
# Building for an old glibc on a new host. In the sid root (gcc 16, glibc
# 2.43), programs built for @rules_portable//platforms:linux_x86_64_glibc_2_36
# are compiled and linked against sysroot v1's headers and libraries:
#
#   - the C2x strtol program and a C++20 program (threads, std::filesystem,
#     iostream) need at most GLIBC_2.36 and bookworm's GLIBCXX_3.4.30, read
#     with `portable inspect`, and run unbundled on this bookworm host (glibc
#     2.36), while the same programs built for the host platform need
#     GLIBC_2.38 and sid's libstdc++;
#   - through the rules (sysroot = v1, no --platforms): sysroot_binary runs in
#     a root that has only /usr/sysroot/v1; portable_binary's bundle runs;
#   - for glibc 2.43 (v3) the strtol program needs GLIBC_2.38 and runs on v3;
#   - the compiler is gcc 16 bundled from pinned packages (//sysroots:gcc_16):
#     it runs on this bookworm host from a read-only copy; its programs are
#     byte-identical to those of the sid root's own gcc of the same Debian
#     version (the build machine's gcc, selected with
#     --//sysroots:compiler=@rules_portable_host_gcc//:gcc); its files are
#     inputs of every compile; another compiler (Debian 12's gcc 12) gives
#     every compile and link another action key;
#   - a program that calls strlcpy (glibc 2.38) fails to compile for v1 with
#     a message naming strlcpy and sysroot v1, and builds and runs for v3;
#   - cache hits across checkout paths: two copies of this repository at
#     new paths share tools/bazel's disk cache; the second build of the v1
#     programs runs none of their compile and link actions.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"
bazel() { "$top/tools/bazel" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
copies=()
cleanup() {
  local c
  for c in "${copies[@]}"; do
    [ -f "$c/MODULE.bazel" ] || continue
    (cd "$c" && "$top/tools/bazel" clean --expunge >/dev/null 2>&1) || true
  done
  rm -rf "$tmp" "${copies[@]}"
}
trap cleanup EXIT
v1=--platforms=//platforms:linux_x86_64_glibc_2_36
v3=--platforms=//platforms:linux_x86_64_glibc_2_43

bazel build //tools/cmd/portable
# The target configuration's outputs of a target (cquery also lists the
# exec configuration's when the target is a tool too).
outputs() { bazel cquery --output=files "$@" 2>/dev/null | grep -v -- '-exec-' || true; }
portable=$(outputs //tools/cmd/portable)
# field FILE KEY: one field of `portable inspect --json` (never runs FILE).
field() {
  "$portable" inspect --json "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}
# version_le A B: GLIBC_2.34 <= GLIBC_2.36 (same prefix, numeric parts).
version_le() {
  [ "$(printf '%s\n%s\n' "${1#*_}" "${2#*_}" | sort -V | head -n 1)" = "${1#*_}" ]
}
build_copy() { # NAME TARGET... : build with the given flags, copy the outputs to $tmp/NAME/
  local name=$1
  shift
  bazel build "$@"
  mkdir -p "$tmp/$name"
  cp bazel-bin/tests/cc/strtol bazel-bin/tests/cc/cxx20 "$tmp/$name/"
}

echo "--- for the host platform (sid's glibc 2.43 and libstdc++): the control"
build_copy host //tests/cc:strtol //tests/cc:cxx20
[ "$(field "$tmp/host/strtol" max_glibc)" = GLIBC_2.38 ] || fail "host build of strtol needs $(field "$tmp/host/strtol" max_glibc), want GLIBC_2.38 (C23 strtol)"
version_le "$(field "$tmp/host/cxx20" max_glibcxx)" GLIBCXX_3.4.30 &&
  fail "host build of cxx20 needs only $(field "$tmp/host/cxx20" max_glibcxx): the control proves nothing"
if out=$("$tmp/host/strtol" 2>&1); then fail "the host-platform strtol ran on bookworm: $out"; fi

echo "--- for glibc 2.36 ($v1)"
build_copy v1 "$v1" //tests/cc:strtol //tests/cc:cxx20
for p in strtol cxx20; do
  g=$(field "$tmp/v1/$p" max_glibc)
  version_le "$g" GLIBC_2.36 || fail "$p for glibc 2.36 needs $g"
  slot=$(field "$tmp/v1/$p" interp_slot)
  [ "$slot" = 4096 ] || fail "$p's interpreter slot is $slot bytes, want a PATH_MAX slot (4096)"
  echo "$p: needs $g, interpreter slot $slot bytes"
done
x=$(field "$tmp/v1/cxx20" max_glibcxx)
version_le "$x" GLIBCXX_3.4.30 || fail "cxx20 for glibc 2.36 needs $x, more than bookworm's libstdc++ (GLIBCXX_3.4.30)"
echo "cxx20: needs $x"
out=$("$tmp/v1/strtol" 42) || fail "strtol for glibc 2.36 does not run on this host: $out"
[ "$out" = "glibc $(getconf GNU_LIBC_VERSION | cut -d' ' -f2), 42" ] || fail "strtol said: $out"
echo "unbundled on this host: $out"
out=$("$tmp/v1/cxx20" a b) || fail "cxx20 for glibc 2.36 does not run on this host: $out"
grep -q '^glibc 2\.36, c++ 202002, sum 4, self cxx20, args 3$' <<<"$out" || fail "cxx20 said: $out"
echo "unbundled on this host: $out"

echo "--- the compiler: gcc 16 and binutils bundled from sysroots/gcc16.lock.json"
keys=$top/tests/e2e/workspaces/cc_keys.$$
copies+=("$keys")
mkdir -p "$keys"
# A symbol of this run's own makes every compile and link new to the
# action cache, so that each one runs (or is served by the disk cache) and
# shows in the execution log with its key.
run_id=rules_portable_keys_$$_$(date +%s)
fresh=(--copt=-D"$run_id" --linkopt=-Wl,--defsym="$run_id"=0)
bazel build "$v1" "${fresh[@]}" --execution_log_json_file="$keys/gcc16.json" //tests/cc:strtol //tests/cc:cxx20 //sysroots:gcc_16
gcc16=$(outputs //sysroots:gcc_16)
cp -a "$gcc16" "$tmp/gcc16"
chmod -R a-w "$tmp/gcc16"
v=$(cd "$tmp" && gcc16/bin/gcc -dumpfullversion) || fail "the bundled gcc does not run on this host"
[ "$v" = 16.2.0 ] || fail "the bundled gcc says it is $v, want 16.2.0"
echo 'int answer(void) { return 42; }' >"$tmp/answer.c"
(cd "$tmp" && gcc16/bin/gcc -Bgcc16/bin/ -no-canonical-prefixes -O2 -c -o answer.o answer.c) ||
  fail "the bundled gcc, moved and read-only, cannot compile on this bookworm host (glibc $(getconf GNU_LIBC_VERSION | cut -d' ' -f2))"
[ "$("$portable" inspect --json "$tmp/answer.o" | python3 -c 'import json, sys; print(json.load(sys.stdin)["type"])')" = REL ] ||
  fail "answer.o is not a relocatable object"
echo "gcc $v, bundled, runs on this host (glibc $(getconf GNU_LIBC_VERSION | cut -d' ' -f2)) from a moved read-only copy"
python3 "$top/tests/e2e/lib/spawn_keys.py" "$keys/gcc16.json" CppCompile sysroots/gcc_16/libexec/cc1 >"$keys/gcc16.compile"
[ -s "$keys/gcc16.compile" ] || fail "no CppCompile in the execution log"
if awk '$3 != 1' "$keys/gcc16.compile" | grep -q .; then
  fail "a compile does not have the bundled cc1 as an input: $(cat "$keys/gcc16.compile")"
fi
echo "every compile has the bundled cc1 among its inputs, by content digest"

build_copy v1_host_gcc "$v1" --//sysroots:compiler=@rules_portable_host_gcc//:gcc //tests/cc:strtol //tests/cc:cxx20
for p in strtol cxx20; do
  cmp "$tmp/v1/$p" "$tmp/v1_host_gcc/$p" ||
    fail "$p built by the bundled gcc 16.2.0 differs from the sid root's gcc 16.2.0 (the same Debian packages)"
done
echo "the bundled gcc and the build machine's gcc of the same version give identical programs"

bazel build "$v1" "${fresh[@]}" --//sysroots:compiler=//tests/cc:gcc_12 --execution_log_json_file="$keys/gcc12.json" //tests/cc:strtol //tests/cc:cxx20
mkdir -p "$tmp/v1_gcc12"
cp bazel-bin/tests/cc/strtol "$tmp/v1_gcc12/"
out=$("$tmp/v1_gcc12/strtol" 5) || fail "strtol compiled by gcc 12 does not run: $out"
for m in CppCompile CppLink; do
  python3 "$top/tests/e2e/lib/spawn_keys.py" "$keys/gcc16.json" $m | awk '{print $1}' | sort >"$keys/a"
  python3 "$top/tests/e2e/lib/spawn_keys.py" "$keys/gcc12.json" $m | awk '{print $1}' | sort >"$keys/b"
  [ -s "$keys/a" ] && [ -s "$keys/b" ] || fail "no $m spawns logged"
  common=$(comm -12 "$keys/a" "$keys/b")
  [ -z "$common" ] || fail "$m actions kept their key when the compiler changed from gcc 16 to gcc 12: $common"
  echo "$m: $(wc -l <"$keys/a") actions, every key differs with gcc 12"
done
cmp -s "$tmp/v1/strtol" "$tmp/v1_gcc12/strtol" && fail "gcc 12 and gcc 16 gave the same strtol: the swap did not happen"

echo "--- through the rules: sysroot = v1, no --platforms"
bazel build //tests/cc:strtol_v1 //tests/cc:cxx20_v1 //tests/cc:cxx20_v3 //sysroots:v1
root=$tmp/root
mkdir -p "$root"
v1tar=$(outputs //sysroots:v1 | grep '\.tar$')
tar -C "$root" -xf "$v1tar"
cp bazel-bin/tests/cc/strtol_v1 "$root/"
out=$(chroot "$root" /strtol_v1 7) || fail "sysroot_binary strtol_v1 in a root with only /usr/sysroot/v1: $out"
[ "$out" = "glibc 2.36, 7" ] || fail "strtol_v1 said: $out"
echo "sysroot_binary in a root with only /usr/sysroot/v1: $out"
for v in v1=2.36 v3=2.43; do
  mkdir -p "$tmp/bundle_${v%=*}"
  tar -C "$tmp/bundle_${v%=*}" -xf "bazel-bin/tests/cc/cxx20_${v%=*}.tar"
  out=$("$tmp/bundle_${v%=*}/cxx20/bin/cxx20")
  grep -q "^glibc ${v#*=}, c++ 202002" <<<"$out" || fail "cxx20_${v%=*} bundle said: $out"
  echo "cxx20_${v%=*} bundle: $out"
done
x=$(field "$tmp/bundle_v1/cxx20/libexec/cxx20" max_glibcxx)
version_le "$x" GLIBCXX_3.4.30 || fail "the bundled cxx20 of v1 needs $x"

echo "--- for glibc 2.43 ($v3)"
build_copy v3 "$v3" //tests/cc:strtol //tests/cc:cxx20
[ "$(field "$tmp/v3/strtol" max_glibc)" = GLIBC_2.38 ] || fail "strtol for glibc 2.43 needs $(field "$tmp/v3/strtol" max_glibc), want GLIBC_2.38"
echo "strtol for v3 needs GLIBC_2.38"
bazel build //tests/cc:strtol_v3
mkdir -p "$tmp/strtol_v3"
tar -C "$tmp/strtol_v3" -xf bazel-bin/tests/cc/strtol_v3.tar
out=$("$tmp/strtol_v3/strtol/bin/strtol" 9)
[ "$out" = "glibc 2.43, 9" ] || fail "strtol_v3 said: $out"
echo "strtol for v3, bundled, runs on v3: $out"

echo "--- the launcher, freestanding, is the same whatever the platform's toolchain"
bazel build //launcher
cp bazel-bin/launcher/launcher "$tmp/launcher.host"
bazel build "$v1" //launcher
cmp "$tmp/launcher.host" bazel-bin/launcher/launcher || fail "the launcher built for glibc 2.36 differs from the host toolchain's"
echo "launcher: identical"

echo "--- strlcpy (glibc 2.38)"
set +e
err=$(bazel build "$v1" //tests/cc:strlcpy 2>&1)
rc=$?
set -e
[ $rc != 0 ] || fail "strlcpy built for glibc 2.36"
grep -q "implicit declaration of function 'strlcpy'" <<<"$err" || fail "the compile error does not name strlcpy: $err"
grep -q "against sysroot v1 (glibc 2.36, Debian bookworm), which does not declare or define: strlcpy" <<<"$err" ||
  fail "the error does not name the sysroot: $err"
echo "for v1: $(grep -m1 'rules_portable:' <<<"$err")"
bazel build //tests/cc:strlcpy_v3
mkdir -p "$tmp/strlcpy"
tar -C "$tmp/strlcpy" -xf bazel-bin/tests/cc/strlcpy_v3.tar
out=$("$tmp/strlcpy/strlcpy/bin/strlcpy")
[ "$out" = "portabl 8" ] || fail "strlcpy_v3 said: $out"
echo "strlcpy for v3 runs: $out"

echo "--- cache hits across checkout paths"
# Two copies of this repository at new paths, with tools/bazel's disk cache
# (shared by every workspace of the root). The first brings into the cache
# what no other checkout has put there yet; the second, at a path no build
# ever had, must then run none of the compile and link actions for glibc
# 2.36: their keys hold no path of the checkout.
shared=$top/tests/e2e/workspaces/cc_cache.$$
copies+=("$shared")
for c in a "b/deeper/path"; do
  d=$shared/$c/rules_portable
  mkdir -p "$d"
  git ls-files -z --cached --others --exclude-standard | grep -zv '^tests/e2e/workspaces/' |
    tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$d" -xf -
  copies+=("$d")
done
(cd "${copies[1]}" && bazel build "$v1" //tests/cc:strtol //tests/cc:cxx20)
log=$shared/exec.json
(cd "${copies[2]}" && bazel build --execution_log_json_file="$log" "$v1" //tests/cc:strtol //tests/cc:cxx20)
python3 "$top/tests/e2e/lib/spawns.py" "$log" | sort | uniq -c | sort -k2
cc=$(python3 "$top/tests/e2e/lib/spawns.py" "$log" | grep -E '^(CppCompile|CppLink) ' || true)
[ "$(grep -c ' hit$' <<<"$cc")" -ge 4 ] || fail "fewer than 4 compile and link cache hits from the second checkout: $cc"
if grep -q ' ran$' <<<"$cc"; then fail "compile or link actions ran again from another checkout path: $cc"; fi
total=$(python3 "$top/tests/e2e/lib/spawns.py" "$log" | wc -l)
hits=$(python3 "$top/tests/e2e/lib/spawns.py" "$log" | grep -c ' hit$' || true)
echo "second checkout: $hits of $total spawns were cache hits; every compile and link for glibc 2.36 was"
echo "tests/e2e/cc_toolchain.sh: ok"
