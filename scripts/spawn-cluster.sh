#!/usr/bin/env bash
# The local demo cluster: the three nodes of config/node-{a,b,c}.json as background
# processes, logs and pids under .cluster/. Run `scripts/spawn-cluster.sh help`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

readonly NODES=(node-a node-b node-c)
readonly RUN_DIR=.cluster
readonly PNPM_VERSION=12.4.2
# On loopback the mesh forms in about a second; the margin is for a cold, busy machine.
readonly MESH_TIMEOUT_S=${MESHCHAT_MESH_TIMEOUT_S:-20}
# SIGTERM closes every client and peer link, then the process exits; a node still
# there after this is stuck and gets SIGKILL.
readonly STOP_TIMEOUT_S=10
readonly STATUS_CLI=packages/node/dist/cli/cluster-status.js
# `start --tls`: certificates from scripts/gen-certs.sh, and a marker that the running
# cluster speaks TLS, read by every later command.
readonly TLS_DIR=config/tls
readonly TLS_MARK=.cluster/tls

usage() {
  cat <<'EOF'
usage: scripts/spawn-cluster.sh COMMAND [NODE]

A local three-node meshchat cluster (config/node-a.json, node-b.json, node-c.json)
running in the background; logs in .cluster/<node>.log, pids in .cluster/<node>.pid.

  start [--tls]            install and build when needed, start the three nodes,
                           wait until each sees the other two alive and linked;
                           --tls: TLS on every listener, mutual TLS between peers,
                           certificates in config/tls/ (made by scripts/gen-certs.sh)
  stop [NODE]              SIGTERM (clients fail over) and wait; every node by default
  status [NODE]            which nodes run, and the cluster as NODE sees it
                           (default: the first node that runs and is not paused;
                           exit status 3 when no node answers)
  kill NODE                SIGKILL: a crash; its peers see the link close at once
  pause NODE               SIGSTOP: a hung node; suspected, then declared dead
  resume NODE              SIGCONT: it refutes the suspicion, or rejoins
  restart NODE             start a killed or stopped node again, wait until it is back
  logs NODE [--no-follow]  its log, pretty-printed when pino-pretty is installed

NODE is a, b, c or node-a, node-b, node-c.
EOF
}

die() {
  echo "spawn-cluster: $*" >&2
  exit 1
}

# a, node-a -> node-a
node_name() {
  case "${1:-}" in
    a | node-a) echo node-a ;;
    b | node-b) echo node-b ;;
    c | node-c) echo node-c ;;
    '') die "name a node: a, b or c" ;;
    *) die "unknown node \"$1\": expected a, b, c, node-a, node-b or node-c" ;;
  esac
}

# What the script needs of config/node-{a,b,c}.json, read once with one node process:
# per node (in NODES order) its nodeId, HTTP and client addresses as others reach them
# (advertiseHost, else host, 127.0.0.1 for a wildcard) and its failure-detector timings.
NODE_IDS=() HTTP_ADDRS=() CLIENT_ADDRS=() SUSPECT_MS=() DEAD_MS=()
load_configs() {
  ((${#NODE_IDS[@]} == 0)) || return 0
  local lines id http client suspect dead name
  local -a files=()
  for name in "${NODES[@]}"; do files+=("config/$name.json"); done
  lines=$(node --input-type=commonjs -e '
    for (const file of process.argv.slice(1)) {
      const config = JSON.parse(require("fs").readFileSync(file, "utf8"));
      let host = config.advertiseHost ?? config.host ?? "127.0.0.1";
      if (["0.0.0.0", "::", "[::]"].includes(host)) host = "127.0.0.1";
      const heartbeat = config.heartbeat ?? {};
      console.log(config.nodeId, `${host}:${config.httpPort}`, `${host}:${config.clientPort}`,
        heartbeat.suspectAfterMs ?? "suspectAfterMs", heartbeat.deadAfterMs ?? "deadAfterMs");
    }
  ' "${files[@]}") || die "cannot read the node configs (${files[*]})"
  while read -r id http client suspect dead; do
    NODE_IDS+=("$id") HTTP_ADDRS+=("$http") CLIENT_ADDRS+=("$client") SUSPECT_MS+=("$suspect") DEAD_MS+=("$dead")
  done <<<"$lines"
}

# node-b -> 1, its place in NODES and in the arrays above.
node_index() {
  case "$1" in node-a) echo 0 ;; node-b) echo 1 ;; node-c) echo 2 ;; esac
}

is_tls() { [[ -f $TLS_MARK ]]; }
http_address() { echo "${HTTP_ADDRS[$(node_index "$1")]}"; }
client_address() {
  if is_tls; then echo "tls://${CLIENT_ADDRS[$(node_index "$1")]}"; else echo "${CLIENT_ADDRS[$(node_index "$1")]}"; fi
}
# How the status CLI and the mesh check reach a node's HTTP listener.
http_url() {
  if is_tls; then echo "https://$(http_address "$1")"; else http_address "$1"; fi
}
# Node processes that talk HTTPS to the nodes trust the development CA.
with_ca() {
  if is_tls; then NODE_EXTRA_CA_CERTS="$TLS_DIR/ca.crt" "$@"; else "$@"; fi
}

# The node's pid when its pid file names a live process started with its config (a
# pid reused by some other process, or a zombie, does not count); fails otherwise.
live_pid() {
  local file="$RUN_DIR/$1.pid" pid args
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  args=$(ps -o args= -p "$pid" 2>/dev/null) || return 1
  [[ $args == *"config/$1.json"* ]] || return 1
  echo "$pid"
}

is_paused() {
  local stat
  stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $stat == T* ]]
}

# Nodes that run and are not paused: the ones that can answer.
responsive_nodes() {
  local name pid
  for name in "${NODES[@]}"; do
    if pid=$(live_pid "$name") && ! is_paused "$pid"; then echo "$name"; fi
  done
}

ensure_pnpm() {
  if ! command -v pnpm >/dev/null 2>&1; then
    echo "pnpm not found; installing pnpm@$PNPM_VERSION"
    npm i -g "pnpm@$PNPM_VERSION"
  fi
}

# Installed when node_modules exists and no manifest changed since the last install
# this script ran (pnpm leaves node_modules untouched when it is up to date).
needs_install() {
  local stamp="$RUN_DIR/installed" file
  [[ -f node_modules/.modules.yaml && -f $stamp ]] || return 0
  for file in pnpm-lock.yaml pnpm-workspace.yaml package.json packages/*/package.json; do
    [[ $file -nt $stamp ]] && return 0
  done
  return 1
}

# tsc -b rewrites a package's tsbuildinfo whenever it builds it: a source newer than
# that file has not been compiled yet.
needs_build() {
  local pkg
  for pkg in protocol node client; do
    [[ -f packages/$pkg/tsconfig.tsbuildinfo && -d packages/$pkg/dist ]] || return 0
    if [[ -n $(find "packages/$pkg/src" "packages/$pkg/tsconfig.json" tsconfig.base.json \
      -newer "packages/$pkg/tsconfig.tsbuildinfo" -print -quit 2>/dev/null) ]]; then
      return 0
    fi
  done
  [[ -f packages/node/dist/main.js && -f $STATUS_CLI && -f packages/client/dist/cli/main.js ]] || return 0
  # The web client's bundle is built from its own sources and the client's and protocol's.
  [[ -f packages/web/dist/app.js ]] || return 0
  [[ -z $(find packages/web/src packages/web/static packages/client/src packages/protocol/src \
    -newer packages/web/dist/app.js -print -quit 2>/dev/null) ]] || return 0
  return 1
}

ensure_built() {
  mkdir -p "$RUN_DIR"
  if needs_install; then
    ensure_pnpm
    echo "installing dependencies (pnpm install --frozen-lockfile)"
    pnpm install --frozen-lockfile
    touch "$RUN_DIR/installed"
  fi
  if needs_build; then
    ensure_pnpm
    echo "building (pnpm build)"
    pnpm build
  fi
}

# Starts one node in the background, in a session of its own (setsid) so that a
# Ctrl-C or a closed terminal does not reach it; `append` keeps the previous log.
launch() {
  local name=$1 mode=$2 log="$RUN_DIR/$1.log" pid
  if pid=$(live_pid "$name"); then
    die "$name is already running (pid $pid); stop or kill it first"
  fi
  mkdir -p "$RUN_DIR"
  [[ $mode == append ]] || : >"$log"
  local -a command=(node packages/node/dist/main.js --config "config/$name.json")
  if is_tls; then
    command+=(--tls.cert "$TLS_DIR/$name.crt" --tls.key "$TLS_DIR/$name.key" --tls.ca "$TLS_DIR/ca.crt")
  fi
  if command -v setsid >/dev/null 2>&1; then
    setsid "${command[@]}" </dev/null >>"$log" 2>&1 &
  else
    nohup "${command[@]}" </dev/null >>"$log" 2>&1 &
  fi
  echo $! >"$RUN_DIR/$name.pid"
  echo "started $name (pid $!), log $log"
}

# Fails with the reason when some node does not see every other one alive and linked.
# Arguments: nodeId=host:httpPort for each node that should be in the mesh.
mesh_problems() {
  with_ca node --input-type=module -e '
    const nodes = process.argv.slice(1).map((arg) => {
      const [name, http] = arg.split("=");
      return { name, http };
    });
    const problems = [];
    for (const node of nodes) {
      let view;
      try {
        const url = node.http.startsWith("https://") ? `${node.http}/cluster` : `http://${node.http}/cluster`;
        const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
        view = await response.json();
      } catch {
        problems.push(`${node.name} does not answer on ${node.http}`);
        continue;
      }
      for (const other of nodes) {
        if (other.name === node.name) continue;
        const member = view.members.find((m) => m.nodeId === other.name);
        if (!member) problems.push(`${node.name} does not know ${other.name} yet`);
        else if (member.state !== "alive" || !member.isLinked)
          problems.push(`${node.name} sees ${other.name} ${member.state}${member.isLinked ? "" : ", not linked"}`);
      }
    }
    if (problems.length > 0) {
      console.log(problems.join("; "));
      process.exit(1);
    }
  ' "$@"
}

# Waits until the nodes just started ("$@") and every other node that runs and is not
# paused form a full mesh; fails at once when one of the new nodes exits.
wait_for_mesh() {
  local deadline=$((SECONDS + MESH_TIMEOUT_S)) name problems
  local -a names=() members=()
  for name in "$@" $(responsive_nodes); do
    [[ " ${names[*]-} " == *" $name "* ]] || names+=("$name")
  done
  for name in "${names[@]}"; do members+=("${NODE_IDS[$(node_index "$name")]}=$(http_url "$name")"); done
  echo "waiting for the mesh: ${#members[@]} nodes, each seeing the others alive and linked"
  while :; do
    for name in "$@"; do
      if ! live_pid "$name" >/dev/null; then
        echo "spawn-cluster: $name exited during startup; the end of $RUN_DIR/$name.log:" >&2
        tail -n 20 "$RUN_DIR/$name.log" >&2
        die "start failed; 'scripts/spawn-cluster.sh stop' ends the nodes still running"
      fi
    done
    problems=$(mesh_problems "${members[@]}") && break
    if ((SECONDS >= deadline)); then
      die "the mesh is not complete after ${MESH_TIMEOUT_S} s: $problems (logs in $RUN_DIR/; 'scripts/spawn-cluster.sh stop' ends the nodes)"
    fi
    sleep 0.2
  done
  echo "mesh complete: every node sees the other $((${#members[@]} - 1)) alive and linked"
}

cmd_start() {
  local tls=false
  case "${1:-}" in
    '') ;;
    --tls) tls=true ;;
    *) die "start takes no node, only --tls: it starts all three (use restart NODE for one)" ;;
  esac
  local name pid
  for name in "${NODES[@]}"; do
    if pid=$(live_pid "$name"); then
      die "$name is already running (pid $pid): 'scripts/spawn-cluster.sh stop' first, or 'restart' a node that is down"
    fi
  done
  ensure_built
  mkdir -p "$RUN_DIR"
  rm -f "$TLS_MARK"
  if $tls; then
    local missing=false
    for name in ca "${NODES[@]}"; do [[ -f $TLS_DIR/$name.crt ]] || missing=true; done
    if $missing; then scripts/gen-certs.sh --out "$TLS_DIR" "${NODES[@]}"; fi
    touch "$TLS_MARK"
  fi
  for name in "${NODES[@]}"; do launch "$name" new; done
  wait_for_mesh "${NODES[@]}"
  cat <<EOF

The cluster is up: clients on $(client_address node-a), $(client_address node-b), $(client_address node-c).

  connect a client   pnpm start:client $(client_hint) --nick alice      (and another: --nick bob)
  web chat           $(web_url node-a)/   (any node's HTTP address serves it)
  cluster status     pnpm cluster:status $(status_hint node-b)   or   scripts/spawn-cluster.sh status
  faults             scripts/spawn-cluster.sh kill b | pause c | resume c | restart b
  logs               scripts/spawn-cluster.sh logs a
  stop               scripts/spawn-cluster.sh stop
EOF
}

# The page a browser opens (with TLS, the development CA must be trusted by the browser).
web_url() {
  if is_tls; then echo "https://$(http_address "$1")"; else echo "http://$(http_address "$1")"; fi
}

# The flags a client needs for this cluster: TLS addresses and the CA.
client_hint() {
  is_tls || return 0
  echo "--servers $(client_address node-a),$(client_address node-b),$(client_address node-c) --tls-ca $TLS_DIR/ca.crt"
}

status_hint() {
  if is_tls; then echo "--node $(http_url "$1") --ca $TLS_DIR/ca.crt"; else echo "[--node $(http_address "$1")]"; fi
}

cmd_stop() {
  local -a names=() stopping=()
  local name pid waited=0
  if (($# > 0)); then names=("$(node_name "$1")"); else names=("${NODES[@]}"); fi
  for name in "${names[@]}"; do
    if pid=$(live_pid "$name"); then
      kill -TERM "$pid"
      # A paused node handles SIGTERM only once it runs again.
      kill -CONT "$pid" 2>/dev/null || true
      stopping+=("$name")
    else
      rm -f "$RUN_DIR/$name.pid"
    fi
  done
  if ((${#stopping[@]} == 0)); then
    echo "no node is running"
    (($# > 0)) || rm -f "$TLS_MARK"
    return
  fi
  for name in "${stopping[@]}"; do
    while pid=$(live_pid "$name"); do
      if ((waited >= STOP_TIMEOUT_S * 10)); then
        echo "spawn-cluster: $name (pid $pid) did not exit within ${STOP_TIMEOUT_S} s of SIGTERM; sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.2
        break
      fi
      sleep 0.1
      waited=$((waited + 1))
    done
    rm -f "$RUN_DIR/$name.pid"
    echo "stopped $name"
  done
  # Every node stopped: the next start chooses TLS or not afresh.
  (($# > 0)) || rm -f "$TLS_MARK"
}

cmd_kill() {
  local name pid
  name=$(node_name "${1:-}")
  pid=$(live_pid "$name") || die "$name is not running"
  kill -KILL "$pid"
  local tries=0
  while live_pid "$name" >/dev/null && ((tries++ < 100)); do sleep 0.05; done
  rm -f "$RUN_DIR/$name.pid"
  echo "killed $name (pid $pid) with SIGKILL; its peers see the link close and declare it dead"
}

cmd_pause() {
  local name pid
  name=$(node_name "${1:-}")
  pid=$(live_pid "$name") || die "$name is not running"
  if is_paused "$pid"; then die "$name (pid $pid) is already paused"; fi
  kill -STOP "$pid"
  local i
  i=$(node_index "$name")
  echo "paused $name (pid $pid) with SIGSTOP; its peers suspect it after ${SUSPECT_MS[i]} ms of silence and declare it dead after ${DEAD_MS[i]} ms"
}

cmd_resume() {
  local name pid
  name=$(node_name "${1:-}")
  pid=$(live_pid "$name") || die "$name is not running"
  if ! is_paused "$pid"; then die "$name (pid $pid) is not paused"; fi
  kill -CONT "$pid"
  echo "resumed $name (pid $pid) with SIGCONT; it refutes a suspicion, or rejoins if it was declared dead"
}

cmd_restart() {
  local name
  name=$(node_name "${1:-}")
  ensure_built
  launch "$name" append
  wait_for_mesh "$name"
}

cmd_status() {
  local name pid view="" state
  for name in "${NODES[@]}"; do
    if pid=$(live_pid "$name"); then
      if is_paused "$pid"; then state="paused (SIGSTOP)"; else state=running; fi
      printf '%-7s %-17s pid %-8s clients %s, http %s\n' "$name" "$state" "$pid" \
        "$(client_address "$name")" "$(http_address "$name")"
    else
      printf '%-7s %s\n' "$name" "not running"
    fi
  done
  if (($# > 0)); then
    view=$(node_name "$1")
    pid=$(live_pid "$view") || die "$view is not running, so it has no view to show"
    if is_paused "$pid"; then die "$view is paused and cannot answer; 'resume' it or ask another node"; fi
  else
    # The whole list, then its first line: `| head -n 1` would end the loop with SIGPIPE.
    view=$(responsive_nodes)
    view=${view%%$'\n'*}
    [[ -n $view ]] || {
      echo "no node is answering; start the cluster with: scripts/spawn-cluster.sh start"
      exit 3
    }
  fi
  [[ -f $STATUS_CLI ]] || die "$STATUS_CLI is missing; run pnpm build"
  echo
  if is_tls; then
    node "$STATUS_CLI" --node "$(http_url "$view")" --ca "$TLS_DIR/ca.crt"
  else
    node "$STATUS_CLI" --node "$(http_address "$view")"
  fi
}

cmd_logs() {
  local name log follow=true
  name=$(node_name "${1:-}")
  log="$RUN_DIR/$name.log"
  case "${2:-}" in
    '') ;;
    --no-follow) follow=false ;;
    *) die "logs: unknown option \"$2\" (only --no-follow)" ;;
  esac
  [[ -f $log ]] || die "no log for $name yet ($log); start the cluster first"
  local -a pretty=(cat)
  if command -v pnpm >/dev/null 2>&1 && pnpm --dir packages/node exec pino-pretty --version >/dev/null 2>&1; then
    pretty=(pnpm --dir packages/node exec pino-pretty --translateTime SYS:HH:MM:ss.l --ignore pid,hostname)
  fi
  if $follow; then
    tail -n 100 -F "$log" | "${pretty[@]}"
  else
    "${pretty[@]}" <"$log"
  fi
}

command=${1:-help}
(($# == 0)) || shift
case "$command" in help | -h | --help) ;; *) load_configs ;; esac
case "$command" in
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  status) cmd_status "$@" ;;
  kill) cmd_kill "$@" ;;
  pause) cmd_pause "$@" ;;
  resume) cmd_resume "$@" ;;
  restart) cmd_restart "$@" ;;
  logs) cmd_logs "$@" ;;
  help | -h | --help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
esac
