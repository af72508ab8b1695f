#!/usr/bin/env bash
# A shared remote cache across checkouts: what a build farm needs.
#
# Starts a real HTTP cache on loopback (Debian's nginx with WebDAV, fetched
# with apt-get download and started by this test, never installed), builds
# examples/hello's bundles, patched binary and sysroot from a clean clone,
# then from a second
# clean clone at another path (its own output base, no disk cache), and
# asserts:
#   - every cacheable action of the second build is a remote cache hit,
#     sysroot, compile, patch and bundle actions included (100%);
#   - no action's command line or environment names either checkout's path,
#     and no output of either build contains it;
#   - both builds give byte-identical bundle and sysroot tars.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
CACHE=${RULES_PORTABLE_CACHE:-/var/cache/rules_portable}
work=$top/tests/e2e/workspaces/remote_cache.$$
mkdir -p "$work"
nginx_pid=""
cleanup() {
  local c
  [ -z "$nginx_pid" ] || kill "$nginx_pid" 2>/dev/null || true
  for c in "$work"/one/rules_portable "$work"/two/elsewhere/rp; do
    [ -d "$c/examples/hello" ] && (cd "$c/examples/hello" && "$c/tools/bazel" clean --expunge >/dev/null 2>&1)
  done
  rm -rf "$work"
}
trap cleanup EXIT

# nginx from Debian, unpacked into the cache (its binary needs only libraries
# every Debian 12 system has: libc, libcrypt, libpcre2, libssl3, zlib).
nginx_dir() {
  local v d tmp
  v=$(apt-cache policy nginx | awk '$1 == "Candidate:" {print $2}')
  [ -n "$v" ] && [ "$v" != "(none)" ] || { apt-get -o DPkg::Lock::Timeout=600 update -qq && v=$(apt-cache policy nginx | awk '$1 == "Candidate:" {print $2}'); }
  [ -n "$v" ] && [ "$v" != "(none)" ] || fail "no nginx package in this machine's apt sources"
  d=$CACHE/nginx/$v
  if [ ! -x "$d/usr/sbin/nginx" ]; then
    tmp=$(mktemp -d "$CACHE/nginx.tmp.XXXXXX")
    (cd "$tmp" && apt-get download -q "nginx=$v" >/dev/null 2>&1) || (sleep 10; cd "$tmp" && apt-get download -q "nginx=$v" >/dev/null) ||
      fail "apt-get download nginx=$v failed"
    dpkg-deb -x "$tmp"/nginx_*.deb "$tmp/x"
    mkdir -p "$CACHE/nginx"
    rm -rf "$d"
    mv "$tmp/x" "$d"
    rm -rf "$tmp"
  fi
  echo "$d"
}
ngx=$(nginx_dir)/usr/sbin/nginx
"$ngx" -V 2>&1 | grep -q -- --with-http_dav_module || fail "$ngx has no WebDAV module"

srv=$work/nginx
mkdir -p "$srv/cache" "$srv/tmp"
start_nginx() { # PORT
  cat >"$srv/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $srv/nginx.pid;
error_log $srv/error.log warn;
events { worker_connections 256; }
http {
  access_log $srv/access.log;
  client_body_temp_path $srv/tmp/body;
  proxy_temp_path $srv/tmp/proxy;
  fastcgi_temp_path $srv/tmp/fastcgi;
  uwsgi_temp_path $srv/tmp/uwsgi;
  scgi_temp_path $srv/tmp/scgi;
  client_max_body_size 0;
  server {
    listen 127.0.0.1:$1;
    root $srv/cache;
    location / {
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }
  }
}
EOF
  "$ngx" -e "$srv/error.log" -p "$srv" -c "$srv/nginx.conf" &
  nginx_pid=$!
  local i
  for i in $(seq 50); do
    if curl -fsS -o /dev/null -X PUT --data-binary probe "http://127.0.0.1:$1/ac/probe" 2>/dev/null; then return 0; fi
    kill -0 "$nginx_pid" 2>/dev/null || { nginx_pid=""; return 1; }
    sleep 0.1
  done
  return 1
}
port=""
for p in $(shuf -i 20000-40000 -n 20); do
  if start_nginx "$p"; then port=$p; break; fi
  [ -z "$nginx_pid" ] || { kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=""; }
done
[ -n "$port" ] || fail "nginx did not start: $(tail -5 "$srv/error.log" 2>/dev/null)"
rm -f "$srv/cache/ac/probe"
echo "HTTP cache (nginx WebDAV) on 127.0.0.1:$port"

one=$work/one/rules_portable
two=$work/two/elsewhere/rp
git clone -q --no-local "$top" "$one"
git clone -q --no-local "$top" "$two"
targets=(//app:portable //app:portable_run //app:hello_v2 @rules_portable//sysroots:v2 @rules_portable//sysroots:v2_dev)
flags=(--remote_cache="http://127.0.0.1:$port" --disk_cache= --remote_upload_local_results)

build() { # CHECKOUT TAG: examples/hello, with the execution log TAG.json
  (cd "$1/examples/hello" && "$1/tools/bazel" build "${flags[@]}" --execution_log_json_file="$work/$2.json" "${targets[@]}" &&
    "$1/tools/bazel" shutdown)
}
start=$(date +%s)
build "$one" one
t1=$(($(date +%s) - start))
start=$(date +%s)
build "$two" two
t2=$(($(date +%s) - start))
echo "first checkout: ${t1}s; second checkout, all from the remote cache: ${t2}s"

PYTHONPATH=$top/tests/e2e/lib python3 - "$work/one.json" "$work/two.json" "$one" "$two" <<'EOF'
import json, sys
from collections import Counter
from execlog import cache_hit, spawns

one, two = spawns(sys.argv[1]), spawns(sys.argv[2])
paths = sys.argv[3:5]
bad = []
for log, name in ((one, "first"), (two, "second")):
    for s in log:
        key = json.dumps([s.get("commandArgs", []), s.get("environmentVariables", [])])
        for p in paths:
            if p in key:
                bad.append("%s build, %s action %s names %s" % (name, s.get("mnemonic"), s.get("targetLabel"), p))
if bad:
    sys.exit("FAIL: absolute checkout paths in action keys:\n  " + "\n  ".join(bad[:20]))

total, hits, misses = Counter(), Counter(), []
for s in two:
    if not s.get("remotable", True) or not s.get("cacheable", True):
        continue
    m = s.get("mnemonic", "?")
    total[m] += 1
    if cache_hit(s):
        hits[m] += 1
    else:
        misses.append("%s %s (runner %s)" % (m, s.get("targetLabel"), s.get("runner")))
print("second checkout, remote cache hits by mnemonic:")
for m in sorted(total):
    print("  %-28s %4d / %-4d" % (m, hits[m], total[m]))
print("  %-28s %4d / %-4d" % ("all", sum(hits.values()), sum(total.values())))
want = {"sysroot": ("PortableSysroot",), "compile": ("CppCompile", "GoCompilePkg"), "patch": ("PortablePatch",), "bundle": ("PortableBundle",)}
for what, mnemonics in want.items():
    if not any(total[m] for m in mnemonics):
        sys.exit("FAIL: the second build ran no %s action (%s); the check would prove nothing" % (what, ", ".join(mnemonics)))
if misses:
    sys.exit("FAIL: %d cacheable actions missed the remote cache:\n  %s" % (len(misses), "\n  ".join(misses[:30])))
EOF

# Same bytes from both checkouts, and no checkout path inside any output.
for f in app/portable.tar app/portable_run.run app/hello_v2; do
  a=$(sha256sum <"$one/examples/hello/bazel-bin/$f") b=$(sha256sum <"$two/examples/hello/bazel-bin/$f")
  [ "$a" = "$b" ] || fail "$f differs between the checkouts"
done
for c in "$one" "$two"; do
  for p in "$work/one" "$work/two"; do
    if hit=$(grep -rlF --exclude='*.params' "$p" "$c/examples/hello/bazel-bin/app" 2>/dev/null | head -3) && [ -n "$hit" ]; then
      fail "outputs name the checkout path $p: $hit"
    fi
  done
done
echo "PASS: a second checkout at another path builds entirely from the remote cache, byte-identical"
