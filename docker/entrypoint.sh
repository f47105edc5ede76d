#!/bin/sh
# The image's entry point. It only picks the JVM options and then execs the JVM, which becomes PID 1
# and receives SIGTERM directly (no shell stays in between).
#   worker ... | controller ... | zookeeper ... | policy ... | bench ... | --help   -> the launcher
#   zookeeper-server CONFIG                                                        -> ZooKeeper's QuorumPeerMain
# Environment: SLIPSTREAM_JAVA_OPTS (JVM options), ZOO_MY_ID / ZOO_MY_ID_FROM_HOSTNAME=true (zookeeper-server:
# the server id, or the StatefulSet ordinal of the host name plus one).
set -eu
home="${SLIPSTREAM_HOME:-/opt/slipstream}"
jar="$home/slipstream.jar"

opts="${SLIPSTREAM_JAVA_OPTS:-}"
cds=""
if [ -f "$home/slipstream.jsa" ]; then
  cds="-XX:SharedArchiveFile=$home/slipstream.jsa -Xshare:auto"
fi

if [ "${1:-}" = "zookeeper-server" ]; then
  shift
  if [ $# -ne 1 ]; then
    echo "entrypoint: zookeeper-server takes one argument, the zoo.cfg path (got $#)" >&2
    exit 2
  fi
  config="$1"
  data_dir="$(sed -n 's/^dataDir=//p' "$config" | tail -n 1)"
  if [ -z "$data_dir" ]; then
    echo "entrypoint: $config has no dataDir= line" >&2
    exit 2
  fi
  my_id="${ZOO_MY_ID:-}"
  if [ -z "$my_id" ] && [ "${ZOO_MY_ID_FROM_HOSTNAME:-false}" = "true" ]; then
    ordinal="${HOSTNAME##*-}"
    case "$ordinal" in
      ''|*[!0-9]*) echo "entrypoint: host name '$HOSTNAME' does not end in -<ordinal>" >&2; exit 2 ;;
    esac
    my_id=$((ordinal + 1))
  fi
  mkdir -p "$data_dir"
  if [ -n "$my_id" ]; then
    echo "$my_id" > "$data_dir/myid"
  fi
  # shellcheck disable=SC2086
  exec java $opts $cds -cp "$jar" org.apache.zookeeper.server.quorum.QuorumPeerMain "$config"
fi

# shellcheck disable=SC2086
exec java $opts $cds -jar "$jar" "$@"
