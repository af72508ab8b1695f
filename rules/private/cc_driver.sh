#!/bin/sh
# The compiler driver of every portable_cc_toolchain. It runs the compiler
# that PORTABLE_CC names (set by the toolchain, like PORTABLE_SYSROOT) on
# the arguments Bazel gives. When the compile or link fails because a
# function is not declared or not defined, it says which sysroot the target
# was built against: an older glibc lacking a function is the likely cause,
# and that is a build error here, not a run-time one on the user's machine.
cc=${PORTABLE_CC:?"PORTABLE_CC is not set: this driver runs only as a portable_cc_toolchain's compiler"}
# A caller that keeps only some of the toolchain's flags gets back those
# that find the compiler's programs and the sysroot's crt objects and
# libraries (PORTABLE_CC_SEARCH, -B and -L only). Go's linker does so: it
# probes whether gcc takes -no-pie with a trivial link of its own, keeping
# -f, -m and -Wl, flags, and without -no-pie it links non-PIC Go code into a
# PIE (DT_TEXTREL). Such a call has no -B and is not a compile (-c).
case " $* " in
*" -B"* | *" -c "*) ;;
*) if [ -n "${PORTABLE_CC_SEARCH:-}" ]; then
  # shellcheck disable=SC2086 # execroot-relative paths, split on spaces
  set -- $PORTABLE_CC_SEARCH "$@"
fi ;;
esac
# The toolchain names the bundled compiler and the sysroot's directories
# relative to the execution root, where Bazel's own actions run. A caller
# that runs the driver elsewhere by an absolute path (rules_go's cgo builds
# run from a package directory) gets them made absolute: the execution root
# is where this file is, less rules/private (and external/<repo> when
# rules_portable is a dependency).
case $0 in
/*)
  root=${0%/rules/private/*}
  case $root in */external/*) root=${root%/external/*} ;; esac
  if [ "$root" != "$PWD" ]; then
    case $cc in /*) ;; *) cc=$root/$cc ;; esac
    for a do
      shift
      case $a in
      -B/*) ;;
      -B?*) a=-B$root/${a#-B} ;;
      esac
      set -- "$@" "$a"
    done
  fi
  ;;
esac
err=$(mktemp "${TMPDIR:-/tmp}/cc_driver.XXXXXX") || exit 1
# Debug info names the working directory, a sandbox's own path: map it to
# ".", so objects are the same from every sandbox, checkout and machine.
"$cc" "-fdebug-prefix-map=$PWD=." "$@" 2>"$err"
rc=$?
cat "$err" >&2
if [ "$rc" != 0 ]; then
  # gcc quotes 'name' in the C locale and with curly quotes in UTF-8 ones.
  missing=$(sed -n \
    -e "s/.*implicit declaration of function [‘'\`]\([A-Za-z0-9_]*\)[’'].*/\1/p" \
    -e "s/.*undefined reference to [‘'\`]\([A-Za-z0-9_]*\)[’'].*/\1/p" \
    "$err" | sort -u | tr '\n' ' ')
  if [ -n "$missing" ]; then
    echo "rules_portable: this target is compiled and linked against sysroot ${PORTABLE_SYSROOT:-?}, which does not declare or define: ${missing% }. If glibc provides it in a newer version, build against a newer sysroot (a platform with a newer @rules_portable//platforms:glibc value), or give the code a fallback for older glibc." >&2
  fi
fi
rm -f "$err"
exit "$rc"
