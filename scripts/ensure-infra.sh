#!/usr/bin/env bash
# Make sure what the tests talk to is running: RabbitMQ (with its management API),
# PostgreSQL, and for the browser and deployment tests Chromium and docker-compose.
# With the argument `broker`, only RabbitMQ (what `make up` needs).
# Installs from Debian's packages where something is missing and we are root.
set -uo pipefail

can_install() { [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; }
apt_updated=""
apt_install() {
  can_install || { echo "cannot install $* (not root or no apt-get)" >&2; return 1; }
  if [ -z "$apt_updated" ]; then apt-get update -qq >/dev/null 2>&1 || true; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && exec 3>&- ; }
wait_port() {
  for _ in $(seq 1 "${2:-60}"); do port_open "$1" && return 0; sleep 1; done
  return 1
}

# --- RabbitMQ -------------------------------------------------------------------------
if ! port_open 5672; then
  command -v rabbitmq-server >/dev/null 2>&1 || apt_install rabbitmq-server
  echo "starting RabbitMQ ..." >&2
  rabbitmq-server -detached >/dev/null 2>&1 || true
  wait_port 5672 90 || { echo "RabbitMQ did not start" >&2; exit 1; }
fi
if command -v rabbitmq-plugins >/dev/null 2>&1 && ! port_open 15672; then
  rabbitmq-plugins enable rabbitmq_management >/dev/null 2>&1 || true
  wait_port 15672 60 || echo "management API not up; tests fall back to rabbitmqctl" >&2
fi

# `ensure-infra.sh broker`: only what `make up` needs.
[ "${1:-}" = "broker" ] && exit 0

# --- PostgreSQL -----------------------------------------------------------------------
if ! port_open 5432; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  echo "starting PostgreSQL $version ..." >&2
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
  wait_port 5432 60 || { echo "PostgreSQL did not start" >&2; exit 1; }
fi
# The tests connect as postgres over TCP; a fresh cluster wants a password for that.
if command -v psql >/dev/null 2>&1 && ! psql -h 127.0.0.1 -U postgres -w -c 'select 1' >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null 2>&1 || true
    echo "export SOESMART_TEST_POSTGRES_URL=postgresql+pg8000://postgres:postgres@127.0.0.1:5432/postgres"
  fi
fi

# --- Browser and compose checker ------------------------------------------------------
[ -x /usr/bin/chromium ] || apt_install chromium || echo "no chromium: browser tests will be skipped" >&2
command -v docker-compose >/dev/null 2>&1 || apt_install docker-compose || echo "no docker-compose: compose validation will be skipped" >&2
exit 0
