#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this machine, from the installed rabbitmq-server package,
# beside (never instead of) the default node on 5672: for the tests and to try a cluster.
#
#   scripts/rabbitmq-cluster.sh start            three nodes, joined into one cluster
#   scripts/rabbitmq-cluster.sh status           the cluster as node a sees it
#   scripts/rabbitmq-cluster.sh url [VHOST]      the SOESMART_BROKER_URL naming all three nodes
#   scripts/rabbitmq-cluster.sh start-node b     start one node again (after kill-node or a crash)
#   scripts/rabbitmq-cluster.sh kill-node b      kill -9 one node
#   scripts/rabbitmq-cluster.sh ctl b ARGS...    rabbitmqctl against one node
#   scripts/rabbitmq-cluster.sh stop             stop all three and remove their directory
#
# Settings (environment): SOESMART_CLUSTER_DIR (default /tmp/soesmart-rabbitmq-cluster):
# data, logs, configuration and the Erlang cookie of the nodes; SOESMART_CLUSTER_PORT
# (default 5701): AMQP ports PORT, PORT+1, PORT+2; Erlang distribution ports PORT+20000...,
# the CLI tools' distribution ports PORT+30000 to PORT+30012 (the default node uses 5672,
# 25672 and 35672-35682); SOESMART_CLUSTER_NAME (default soesmart): nodes NAME-a@localhost,
# NAME-b@localhost, NAME-c@localhost. The nodes listen on 127.0.0.1 only, without the
# management plugin; the user is guest/guest.
set -euo pipefail

DIR="${SOESMART_CLUSTER_DIR:-/tmp/soesmart-rabbitmq-cluster}"
PORT="${SOESMART_CLUSTER_PORT:-5701}"
NAME="${SOESMART_CLUSTER_NAME:-soesmart}"
LETTERS=(a b c)

# Debian puts the real scripts in /usr/lib/rabbitmq/bin; /usr/sbin/rabbitmq-server is a wrapper
# that switches to the rabbitmq user and to its home (and so to the default node's cookie).
find_sbin() {
  local candidate
  for candidate in "${RABBITMQ_SBIN:-}" /usr/lib/rabbitmq/bin; do
    [ -n "$candidate" ] && [ -x "$candidate/rabbitmq-server" ] && { echo "$candidate"; return; }
  done
  candidate=$(PATH="$PATH:/usr/sbin" command -v rabbitmq-server || true)
  [ -n "$candidate" ] || { echo "rabbitmq-server is not installed" >&2; exit 3; }
  dirname "$(readlink -f "$candidate")"
}
SBIN="$(find_sbin)"

index_of() {
  local i
  for i in "${!LETTERS[@]}"; do [ "${LETTERS[$i]}" = "$1" ] && { echo "$i"; return; }; done
  echo "no node '$1' (a, b or c)" >&2; exit 2
}
node_name() { echo "$NAME-$1@localhost"; }
node_port() { echo $((PORT + $(index_of "$1"))); }

# Runs "$@" with the environment of node $1 (its own name, ports, directories, cookie).
with_node() {
  local letter="$1"; shift
  local base="$DIR/$letter" port
  port="$(node_port "$letter")"
  env HOME="$DIR" \
    RABBITMQ_NODENAME="$(node_name "$letter")" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$port" \
    RABBITMQ_DIST_PORT=$((port + 20000)) \
    RABBITMQ_CTL_DIST_PORT_MIN=$((PORT + 30000)) \
    RABBITMQ_CTL_DIST_PORT_MAX=$((PORT + 30012)) \
    RABBITMQ_BASE="$base" \
    RABBITMQ_MNESIA_BASE="$base/mnesia" \
    RABBITMQ_LOG_BASE="$base/log" \
    RABBITMQ_PID_FILE="$base/pid" \
    RABBITMQ_CONFIG_FILE="$base/rabbitmq.conf" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$base/advanced.config" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins" \
    RABBITMQ_CONF_ENV_FILE="$base/rabbitmq-env.conf" \
    RABBITMQ_USE_LONGNAME=false \
    ERL_CRASH_DUMP="$DIR/erl_crash.dump" \
    ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    "$@"
}

ctl() { local letter="$1"; shift; with_node "$letter" "$SBIN/rabbitmqctl" -n "$(node_name "$letter")" "$@"; }

prepare_node() {
  local letter="$1" base="$DIR/$1"
  mkdir -p "$base/mnesia" "$base/log"
  cat >"$base/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$(node_port "$letter")
loopback_users.guest = true
# The minority side of a partition stops serving instead of going its own way.
cluster_partition_handling = pause_minority
disk_free_limit.absolute = 200MB
log.console = false
log.file.level = warning
EOF
  echo "[]." >"$base/advanced.config"
  echo "[]." >"$base/enabled_plugins"
  : >"$base/rabbitmq-env.conf"
}

node_pid() { [ -s "$DIR/$1/pid" ] && cat "$DIR/$1/pid" || true; }
node_running() { local pid; pid="$(node_pid "$1")"; [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

start_node() {
  local letter="$1"
  if node_running "$letter"; then return 0; fi
  rm -f "$DIR/$letter/pid"
  # Its own session, so the caller's terminal or test process group does not take it along.
  with_node "$letter" setsid "$SBIN/rabbitmq-server" >>"$DIR/$letter/log/console.log" 2>&1 </dev/null &
}

wait_node() {
  local letter="$1"
  for _ in $(seq 1 120); do
    [ -s "$DIR/$letter/pid" ] && break
    sleep 0.5
  done
  [ -s "$DIR/$letter/pid" ] || { echo "node $letter wrote no pid file; see $DIR/$letter/log" >&2; return 1; }
  ctl "$letter" -q wait --timeout 120 "$DIR/$letter/pid" >/dev/null
}

kill_node() {
  local pid; pid="$(node_pid "$1")"
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do node_running "$1" || return 0; sleep 0.1; done
}

stop_all() {
  local letter
  for letter in "${LETTERS[@]}"; do
    if node_running "$letter"; then ctl "$letter" -q stop >/dev/null 2>&1 || kill_node "$letter"; fi
  done
  for letter in "${LETTERS[@]}"; do kill_node "$letter"; done
}

cmd_start() {
  if [ -f "$DIR/cluster-formed" ] && node_running a && node_running b && node_running c; then
    echo "already running in $DIR"; return 0
  fi
  stop_all 2>/dev/null || true
  rm -rf "$DIR"
  mkdir -p "$DIR"
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DIR/.erlang.cookie"
  chmod 400 "$DIR/.erlang.cookie"
  local letter
  for letter in "${LETTERS[@]}"; do prepare_node "$letter"; start_node "$letter"; done
  for letter in "${LETTERS[@]}"; do wait_node "$letter"; done
  for letter in b c; do
    ctl "$letter" -q stop_app >/dev/null
    ctl "$letter" -q join_cluster "$(node_name a)" >/dev/null
    ctl "$letter" -q start_app >/dev/null
  done
  touch "$DIR/cluster-formed"
  echo "cluster of $(node_name a), $(node_name b), $(node_name c) on ports $PORT-$((PORT + 2)) in $DIR"
}

cmd_url() {
  local vhost="${1:-}" urls=() letter
  for letter in "${LETTERS[@]}"; do urls+=("amqp://guest:guest@127.0.0.1:$(node_port "$letter")/$vhost"); done
  (IFS=';'; echo "${urls[*]}")
}

case "${1:-}" in
  start) cmd_start ;;
  stop) stop_all; rm -rf "$DIR"; echo "stopped; $DIR removed" ;;
  status) ctl a cluster_status ;;
  url) cmd_url "${2:-}" ;;
  start-node) start_node "$2"; wait_node "$2" ;;
  kill-node) kill_node "$2" ;;
  ctl) shift; letter="$1"; shift; ctl "$letter" "$@" ;;
  *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
