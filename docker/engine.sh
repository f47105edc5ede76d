#!/usr/bin/env bash
# Makes sure a container engine answers on DOCKER_HOST (default unix:///var/run/docker.sock).
# When none answers and Debian's dockerd is installed (apt-get install docker.io), starts one:
#   - without iptables rules and without the default bridge (--iptables=false --bridge=none), so that it
#     changes nothing in the host's firewall or routing; Slipstream's images and tests use host networking;
#   - its pid in /run/slipstream-dockerd.pid, its log in ${TMPDIR:-/tmp}/slipstream-dockerd.log.
# `docker/engine.sh stop` stops the engine this script started (by that pid), and only that one.
# Exit status: 0 when an engine answers, 3 when none can be started (the message says why).
set -euo pipefail

sock_url="${DOCKER_HOST:-unix:///var/run/docker.sock}"
pidfile=/run/slipstream-dockerd.pid
log="${TMPDIR:-/tmp}/slipstream-dockerd.log"

answers() {
  docker -H "$sock_url" version --format '{{.Server.Version}}' >/dev/null 2>&1
}

case "${1:-start}" in
  start) ;;
  stop)
    if [ -f "$pidfile" ]; then
      pid="$(cat "$pidfile")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$pidfile"
    fi
    exit 0 ;;
  *) echo "usage: docker/engine.sh [start|stop]" >&2; exit 2 ;;
esac

if ! command -v docker >/dev/null 2>&1; then
  echo "engine.sh: no docker client on PATH (expected: apt-get install -y docker.io)" >&2
  exit 3
fi
answers && exit 0

case "$sock_url" in
  unix://*) sock="${sock_url#unix://}" ;;
  *) echo "engine.sh: no engine answers on DOCKER_HOST=$sock_url and only a local unix socket can be started" >&2
     exit 3 ;;
esac
if ! command -v dockerd >/dev/null 2>&1; then
  echo "engine.sh: no engine answers on $sock_url and dockerd is not installed (expected: apt-get install -y docker.io)" >&2
  exit 3
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "engine.sh: no engine answers on $sock_url and starting dockerd needs root" >&2
  exit 3
fi

echo "engine.sh: starting dockerd on $sock (log: $log)" >&2
# setsid: the engine outlives the shell (and the Maven run) that started it; stop it with `engine.sh stop`.
setsid dockerd --host "unix://$sock" --pidfile "$pidfile" --iptables=false --bridge=none \
  >"$log" 2>&1 < /dev/null &
for _ in $(seq 1 300); do
  answers && exit 0
  sleep 0.1
done
echo "engine.sh: dockerd did not answer on $sock within 30 s; last log lines:" >&2
tail -n 20 "$log" >&2 || true
exit 3
