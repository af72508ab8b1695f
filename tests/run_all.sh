#!/usr/bin/env bash
# The whole rules_portable test suite, from a fresh Debian 12 machine:
#
#   sudo ./tests/run_all.sh
#
# Phases: host packages, gofmt + go vet, the offline Bazel root, go test,
# bazel test //..., the end-to-end examples. Each phase prints its time; the
# last line says how many phases passed. Set SKIP_BAZEL=1 to stop after go
# test (for a quick local loop; CI never sets it): the run then counts the
# two phases it left out as skipped and exits non-zero.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
top=$PWD
export PATH=/usr/local/go/bin:$PATH
passed=0 failed=0 failures=() times=() script_times=()
BUILDIFIER_VERSION=v0.0.0-20260904073137-eaa4d125b423

# retry CMD...: up to 3 tries, for steps that fetch from a registry.
retry() {
  local i
  for i in 1 2 3; do
    "$@" && return 0
    [ $i = 3 ] || { echo "retrying in 10s: $*" >&2; sleep 10; }
  done
  return 1
}

# free_disk: the free space where the outputs go (Bazel's output bases and
# caches under the cache directory), for the times table: a full disk is a
# failure of its own, and the table shows where the space went.
free_disk() {
  local d=${RULES_PORTABLE_CACHE:-/var/cache/rules_portable}
  while [ ! -d "$d" ]; do d=$(dirname "$d"); done
  df -h --output=avail "$d" | tail -n 1 | tr -d ' '
}

phase() { # NAME CMD...
  local name=$1 start rc
  shift
  printf '\n=== phase: %s\n' "$name"
  start=$(date +%s)
  "$@"
  rc=$?
  printf '=== phase: %s: %s in %ss\n' "$name" "$([ $rc = 0 ] && echo ok || echo "FAILED (exit $rc)")" "$(($(date +%s) - start))"
  times+=("$(printf '%6ss  %-34s free after: %s' "$(($(date +%s) - start))" "$name$([ $rc = 0 ] || echo " (FAILED)")" "$(free_disk)")")
  if [ $rc = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
  return $rc
}

host_packages() {
  local want=() p
  while read -r p; do
    case "$p" in ''|'#'*) continue ;; esac
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = 'install ok installed' ] || want+=("$p")
  done <tests/host-packages.txt
  [ ${#want[@]} = 0 ] && { echo "all host packages present"; return 0; }
  echo "installing: ${want[*]}"
  # A fresh VM often runs apt-daily at boot: wait for its lock, not fail.
  retry apt-get -o DPkg::Lock::Timeout=600 update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${want[@]}" >/dev/null
}

lint() {
  local bad
  bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bazel-*'))
  [ -z "$bad" ] || { echo "gofmt would change:"; echo "$bad"; return 1; }
  retry go mod download || return 1
  go vet ./... || return 1
  # buildifier comes from the Go module proxy, pinned.
  local bin
  bin=$(mktemp -d)
  retry env GOBIN="$bin" GOFLAGS=-mod=mod go install "github.com/bazelbuild/buildtools/buildifier@$BUILDIFIER_VERSION" || return 1
  "$bin/buildifier" -mode=check -lint=warn -r .
  local rc=$?
  rm -rf "$bin"
  return $rc
}

provision() {
  PORTABLE_SID_ROOT=$(tools/offline/sidroot.sh ensure) || return 1
  export PORTABLE_SID_ROOT
  echo "sid root: $PORTABLE_SID_ROOT"
}

go_tests() {
  go test -count=1 ./...
}

bazel_tests() {
  tools/bazel test //...
}

# The remote-execution test runs alongside the other scripts, its output
# to a log printed when it ends: most of its time is its cluster's worker
# building the project from scratch, and the other scripts leave the two
# cores idle for long stretches (server starts, fetches, analysis, checks).
# Its local builds are in the checkout's own workspaces, after the examples'
# scripts here are done with them (it starts with the cluster and //...).
ALONGSIDE=tests/e2e/remote_execution.sh
alongside_pid=""
stop_alongside() {
  [ -z "$alongside_pid" ] || { kill -TERM "$alongside_pid" 2>/dev/null; wait "$alongside_pid" 2>/dev/null; }
  alongside_pid=""
}
trap stop_alongside EXIT

examples() {
  local e rc=0 start log arc
  log=$(mktemp)
  start=$(date +%s)
  "$ALONGSIDE" >"$log" 2>&1 &
  alongside_pid=$!
  echo "--- $ALONGSIDE: started; it runs alongside the scripts below, its output follows them"
  local astart=$start
  for e in examples/*/e2e.sh tests/e2e/*.sh; do
    [ "$e" = "$ALONGSIDE" ] && continue
    echo "--- $e"
    start=$(date +%s)
    "$e" || { echo "FAILED: $e"; rc=1; }
    script_times+=("$(printf '%6ss    %-32s free after: %s' "$(($(date +%s) - start))" "$e" "$(free_disk)")")
    # An idle server keeps its heap; only one workspace's is needed at a time.
    case "$e" in examples/*) (cd "$(dirname "$e")" && "$top/tools/bazel" shutdown >/dev/null 2>&1) ;; esac
  done
  echo "--- waiting for $ALONGSIDE"
  wait "$alongside_pid"
  arc=$?
  alongside_pid=""
  echo "--- $ALONGSIDE (it ran alongside the scripts above)"
  cat "$log"
  rm -f "$log"
  [ $arc = 0 ] || { echo "FAILED: $ALONGSIDE"; rc=1; }
  script_times+=("$(printf '%6ss    %-32s free after: %s' "$(($(date +%s) - astart))" "$ALONGSIDE (alongside)" "$(free_disk)")")
  return $rc
}

shutdown_bazel() {
  local d
  for d in . examples/*/; do
    [ -f "$d/MODULE.bazel" ] && (cd "$d" && "$top/tools/bazel" shutdown >/dev/null 2>&1)
  done
  return 0
}

echo "free disk at the start: $(free_disk)"
phase "host packages" host_packages || exit 1
phase "gofmt, go vet, buildifier" lint
phase "offline bazel (sid root)" provision || { echo "0 passed, 1 failed"; exit 1; }
phase "go test" go_tests
skipped=0
if [ -z "${SKIP_BAZEL:-}" ]; then
  phase "bazel test //..." bazel_tests
  phase "examples (end to end)" examples
  shutdown_bazel
else
  skipped=2
fi

echo
echo "times:"
printf '%s\n' "${times[@]}"
[ ${#script_times[@]} = 0 ] || { echo "  of which, end to end:"; printf '%s\n' "${script_times[@]}"; }
[ $failed = 0 ] || echo "failed phases: ${failures[*]}"
[ $skipped = 0 ] || echo "skipped phases (SKIP_BAZEL is set): bazel test //..., examples (end to end)"
echo "phases: $passed passed, $failed failed$([ $skipped = 0 ] || echo ", $skipped skipped")"
[ $failed = 0 ] && [ $skipped = 0 ]
