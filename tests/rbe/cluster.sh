#!/usr/bin/env bash
# cluster.sh: a Buildbarn remote-execution cluster on 127.0.0.1, with the
# runner in a minimal bookworm root that has no compiler.
#
#   tests/rbe/cluster.sh up       build what is missing, start, wait until ready
#   tests/rbe/cluster.sh env      print the Bazel flags that use the cluster
#   tests/rbe/cluster.sh status   say which processes run
#   tests/rbe/cluster.sh down     stop everything `up` started
#
# State: $RBE_STATE (default $RULES_PORTABLE_CACHE/rbe/state, cache default
# /var/cache/rules_portable): configs, logs, pids, ports, the CAS file and the
# worker's build directory. `up` starts from an empty state directory; `down`
# keeps the logs for a look afterwards. Two clusters need two RBE_STATEs.
#
# What runs (binaries from build.sh, root from runner-root.sh):
#   bb_storage    CAS (sparse file of 6 GiB, 1 GiB blocks: blobs of several
#                 hundred MB fit) and AC (in memory); forwards Execute to the
#                 scheduler. The one address Bazel needs.
#   bb_scheduler  a client port (for bb_storage), a worker port, an admin page
#   bb_worker     a native build directory, one runner over a unix socket,
#                 the empty platform: Bazel's default platform sends no exec
#                 properties, and the scheduler matches platforms exactly
#   bb_runner     chrooted into an overlay of the runner root (its writes go
#                 to the state directory, never to the cached root), in its
#                 own mount and PID namespaces: /proc and /dev mounted
#                 (/tmp is the overlay's, emptied between actions), the worker's build directory and the runner's
#                 socket directory bind-mounted at the same paths as outside,
#                 so the paths that the worker and the runner exchange agree.
#                 Stopping it kills every process an action left behind.
# Ports are free random ones on 127.0.0.1, chosen at `up`.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${RULES_PORTABLE_CACHE:-/var/cache/rules_portable}
STATE=${RBE_STATE:-$CACHE/rbe/state}
NAMES=(worker runner scheduler storage) # the order `down` stops them in
die() { printf 'rbe/cluster.sh: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'rbe/cluster.sh: %s\n' "$*" >&2; }

# ---- ports, pids

listening() { # PORT: is something listening on 127.0.0.1:PORT?
  [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}
taken=" "
free_port() {
  local p
  for p in $(shuf -i 20000-60000 -n 50); do
    case "$taken" in *" $p "*) continue ;; esac
    listening "$p" && continue
    taken="$taken$p "
    echo "$p"
    return 0
  done
  die "no free port on 127.0.0.1 after 50 tries"
}

# alive NAME: is the process that `up` recorded as NAME still running?
alive() {
  local pid
  pid=$(cat "$STATE/$1.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  # The pid must still be ours: its command line names our binary.
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "bb_$1" || return 1
}

stop() { # NAME: TERM, then KILL after 10s
  local pid i
  alive "$1" || { rm -f "$STATE/$1.pid"; return 0; }
  pid=$(cat "$STATE/$1.pid")
  # The runner's recorded pid is unshare's, which ignores SIGTERM while it
  # waits: signal its child, bb_runner, too.
  kill -TERM "$pid" $(cat /proc/"$pid"/task/*/children 2>/dev/null) 2>/dev/null || true
  for i in $(seq 100); do
    alive "$1" || break
    sleep 0.1
  done
  if alive "$1"; then
    log "bb_$1 (pid $pid) ignored SIGTERM for 10s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$STATE/$1.pid"
}

down() {
  local n
  [ -d "$STATE" ] || return 0
  for n in "${NAMES[@]}"; do stop "$n"; done
  # The runner's mounts lived in its own mount namespace and went with it;
  # nothing was mounted on the host. The big files go, the logs stay.
  rm -rf "$STATE/storage/cas.blocks" "$STATE/worker" "$STATE/runner-root" "$STATE/runner/runner.sock"
  rm -f "$STATE/ports"
}

# wait_for WHAT NAME CHECK...: until CHECK succeeds, for up to 60s, while
# the NAME process lives.
wait_for() {
  local what=$1 name=$2 i
  shift 2
  for i in $(seq 600); do
    "$@" && return 0
    alive "$name" || die "bb_$name exited before $what; the end of $STATE/$name.log:
$(tail -n 15 "$STATE/$name.log" 2>/dev/null)"
    sleep 0.1
  done
  die "bb_$name: no $what after 60s; the end of $STATE/$name.log:
$(tail -n 15 "$STATE/$name.log" 2>/dev/null)"
}

# start NAME CMD...: start CMD in the background, log and pid in $STATE.
start() {
  local name=$1
  shift
  nohup "$@" >"$STATE/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/$name.pid"
}

# ---- configs (Buildbarn reads Jsonnet; plain JSON is Jsonnet)

write_configs() {
  local ncpu clean_tmp='"/tmp"'
  ncpu=$(nproc)
  # bb_runner empties /tmp between actions, unless the state directory (and
  # so the runner's bind mounts) is inside /tmp: a mount point cannot go.
  case "$STATE/" in /tmp/*) clean_tmp="" ;; esac
  cat >"$STATE/storage.json" <<EOF
{
  "grpcServers": [{
    "listenAddresses": ["127.0.0.1:$storage_port"],
    "authenticationPolicy": {"allow": {}}
  }],
  "contentAddressableStorage": {
    "backend": {"local": {
      "keyLocationMapInMemory": {"entries": 524288},
      "keyLocationMapMaximumGetAttempts": 16,
      "keyLocationMapMaximumPutAttempts": 64,
      "oldBlocks": 1, "currentBlocks": 3, "newBlocks": 1,
      "blocksOnBlockDevice": {
        "source": {"file": {"path": "$STATE/storage/cas.blocks", "sizeBytes": 6442450944}},
        "spareBlocks": 1
      }
    }},
    "getAuthorizer": {"allow": {}},
    "putAuthorizer": {"allow": {}},
    "findMissingAuthorizer": {"allow": {}}
  },
  "actionCache": {
    "backend": {"local": {
      "keyLocationMapInMemory": {"entries": 65536},
      "keyLocationMapMaximumGetAttempts": 16,
      "keyLocationMapMaximumPutAttempts": 64,
      "oldBlocks": 1, "currentBlocks": 4, "newBlocks": 1,
      "blocksInMemory": {"blockSizeBytes": 8388608}
    }},
    "getAuthorizer": {"allow": {}},
    "putAuthorizer": {"allow": {}}
  },
  "schedulers": {"": {"endpoint": {"address": "127.0.0.1:$scheduler_client_port"}}},
  "executeAuthorizer": {"allow": {}},
  "maximumMessageSizeBytes": 16777216
}
EOF
  cat >"$STATE/scheduler.json" <<EOF
{
  "adminHttpServers": [{
    "listenAddresses": ["127.0.0.1:$scheduler_admin_port"],
    "authenticationPolicy": {"allow": {}}
  }],
  "clientGrpcServers": [{
    "listenAddresses": ["127.0.0.1:$scheduler_client_port"],
    "authenticationPolicy": {"allow": {}}
  }],
  "workerGrpcServers": [{
    "listenAddresses": ["127.0.0.1:$scheduler_worker_port"],
    "authenticationPolicy": {"allow": {}}
  }],
  "browserUrl": "http://127.0.0.1:$scheduler_admin_port",
  "contentAddressableStorage": {"grpc": {"address": "127.0.0.1:$storage_port"}},
  "maximumMessageSizeBytes": 16777216,
  "executeAuthorizer": {"allow": {}},
  "modifyDrainsAuthorizer": {"allow": {}},
  "killOperationsAuthorizer": {"allow": {}},
  "actionRouter": {"simple": {
    "platformKeyExtractor": {"actionAndCommand": {}},
    "invocationKeyExtractors": [{"correlatedInvocationsId": {}}, {"toolInvocationId": {}}],
    "initialSizeClassAnalyzer": {"defaultExecutionTimeout": "1800s", "maximumExecutionTimeout": "3600s"}
  }},
  "platformQueueWithNoWorkersTimeout": "900s"
}
EOF
  cat >"$STATE/worker.json" <<EOF
{
  "blobstore": {
    "contentAddressableStorage": {"grpc": {"address": "127.0.0.1:$storage_port"}},
    "actionCache": {"grpc": {"address": "127.0.0.1:$storage_port"}}
  },
  "browserUrl": "http://127.0.0.1:$scheduler_admin_port",
  "maximumMessageSizeBytes": 16777216,
  "scheduler": {"address": "127.0.0.1:$scheduler_worker_port"},
  "buildDirectories": [{
    "native": {
      "buildDirectoryPath": "$STATE/worker/build",
      "cacheDirectoryPath": "$STATE/worker/cache",
      "maximumCacheFileCount": 100000,
      "maximumCacheSizeBytes": 4294967296,
      "cacheReplacementPolicy": "LEAST_RECENTLY_USED"
    },
    "runners": [{
      "endpoint": {"address": "unix://$STATE/runner/runner.sock"},
      "concurrency": $ncpu,
      "platform": {},
      "workerId": {"host": "127.0.0.1", "root": "minbase-bookworm"}
    }]
  }],
  "filePool": {"directoryPath": "$STATE/worker/filepool"},
  "inputDownloadConcurrency": 10,
  "outputUploadConcurrency": 10,
  "directoryCache": {
    "maximumCount": 10000,
    "maximumSizeBytes": 16777216,
    "cacheReplacementPolicy": "LEAST_RECENTLY_USED"
  }
}
EOF
  cat >"$STATE/runner/runner.json" <<EOF
{
  "buildDirectoryPath": "$STATE/worker/build",
  "grpcServers": [{
    "listenPaths": ["$STATE/runner/runner.sock"],
    "authenticationPolicy": {"allow": {}}
  }],
  "cleanTemporaryDirectories": [$clean_tmp],
  "setTmpdirEnvironmentVariable": true
}
EOF
}

# The runner's namespace: run by unshare as PID 1's parent shell, then
# replaced by chroot + bb_runner. Arguments: STATE ROOT BIN.
RUNNER_NS='
set -eu
state=$1 lower=$2 bin=$3
r=$state/runner-root
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$r/upper,workdir=$r/work" "$r/merged"
m=$r/merged
mount -t proc proc "$m/proc"
mount --rbind /dev "$m/dev"
for d in "$state/worker/build" "$state/runner" "$bin"; do
  mkdir -p "$m$d"
  mount --bind "$d" "$m$d"
done
mount -o remount,bind,ro "$m$bin"
cd /
exec chroot "$m" "$bin/bb_runner" "$state/runner/runner.json"
'

up() {
  local bin root
  [ "$(id -u)" = 0 ] || die "must run as root (the runner is chrooted in its own namespaces); try: sudo $0 up"
  if [ -d "$STATE" ] && ls "$STATE"/*.pid >/dev/null 2>&1; then
    log "stopping the cluster that $STATE still records"
    down
  fi
  bin=$("$here/build.sh")
  root=$("$here/runner-root.sh")
  # From here on, a failure stops whatever has started.
  trap 'rc=$?; if [ $rc != 0 ]; then log "start failed; stopping what started (logs stay in $STATE)"; down; fi' EXIT
  trap 'exit 130' INT TERM HUP
  rm -rf "$STATE"
  mkdir -p "$STATE"/{storage,runner,worker/build,worker/cache,worker/filepool,runner-root/upper,runner-root/work,runner-root/merged}
  storage_port=$(free_port)
  scheduler_client_port=$(free_port)
  scheduler_worker_port=$(free_port)
  scheduler_admin_port=$(free_port)
  write_configs
  cat >"$STATE/ports" <<EOF
storage=$storage_port
scheduler_client=$scheduler_client_port
scheduler_worker=$scheduler_worker_port
scheduler_admin=$scheduler_admin_port
EOF

  start storage "$bin/bb_storage" "$STATE/storage.json"
  wait_for "listening on 127.0.0.1:$storage_port" storage listening "$storage_port"
  start scheduler "$bin/bb_scheduler" "$STATE/scheduler.json"
  wait_for "listening on 127.0.0.1:$scheduler_client_port" scheduler listening "$scheduler_client_port"
  wait_for "listening on 127.0.0.1:$scheduler_worker_port" scheduler listening "$scheduler_worker_port"
  wait_for "listening on 127.0.0.1:$scheduler_admin_port" scheduler listening "$scheduler_admin_port"
  start runner unshare --mount --pid --fork --kill-child --propagation private -- \
    bash -c "$RUNNER_NS" runner-ns "$STATE" "$root" "$bin"
  wait_for "socket $STATE/runner/runner.sock" runner test -S "$STATE/runner/runner.sock"
  start worker "$bin/bb_worker" "$STATE/worker.json"
  # Ready when the scheduler has a queue for the empty platform: the worker
  # has registered and takes work.
  wait_for "registration with bb_scheduler" worker worker_registered
  trap - EXIT INT TERM HUP
  log "up: bb_storage on 127.0.0.1:$storage_port; bb_scheduler admin page http://127.0.0.1:$scheduler_admin_port/; state in $STATE"
}

worker_registered() {
  # The admin page links to the workers of the empty platform's queue
  # ("all" filter) with their count: ready once that count is not zero.
  curl -fsS "http://127.0.0.1:$scheduler_admin_port/" 2>/dev/null |
    grep 'workers?filter=%7b%22all%22' | grep -q '>[1-9][0-9]*</a>'
}

env_flags() {
  [ -f "$STATE/ports" ] || die "no cluster recorded in $STATE; run: $0 up"
  local storage
  storage=$(awk -F= '$1 == "storage" {print $2}' "$STATE/ports")
  alive storage || die "bb_storage recorded in $STATE is not running; run: $0 up"
  echo "--remote_executor=grpc://127.0.0.1:$storage --remote_timeout=3600"
}

status() {
  local n rc=0
  for n in storage scheduler worker runner; do
    if alive "$n"; then echo "bb_$n: running (pid $(cat "$STATE/$n.pid"))"; else echo "bb_$n: not running"; rc=1; fi
  done
  [ ! -f "$STATE/ports" ] || sed 's/^/port /' "$STATE/ports"
  return $rc
}

case "${1:-}" in
up) up ;;
down) down ;;
env) env_flags ;;
status) status ;;
*)
  echo "usage: $0 up|env|status|down   (state in \$RBE_STATE, now $STATE)" >&2
  exit 2
  ;;
esac
