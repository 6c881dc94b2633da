#!/usr/bin/env bash
# A throwaway PostgreSQL cluster in a directory, on a loopback port, with no system service:
#   pg-cluster.sh init DIR PORT    create it (as Debian's postgres user when run as root) and start it
#   pg-cluster.sh start DIR PORT   start it again
#   pg-cluster.sh stop DIR [MODE]  stop it (MODE: fast, the default, or immediate)
# scripts/with-postgres.sh uses it for the test suite; a fault test restarts its own cluster with it.
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$PGBIN" ]; then
  echo "pg-cluster: PostgreSQL is not installed (run scripts/setup.sh)" >&2
  exit 1
fi
cmd=$1 dir=$2
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  # initdb refuses to run as root: the cluster belongs to Debian's postgres user.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  as_pg=(runuser -u postgres --)
fi
start() {
  "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-p $1 -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" start >/dev/null
}
case $cmd in
  init)
    [ "$(id -u)" -ne 0 ] || chown postgres "$dir"
    "${as_pg[@]}" "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
    start "$3" ;;
  start) start "$3" ;;
  stop) "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m "${3:-fast}" -w stop >/dev/null ;;
  *) echo "pg-cluster: unknown command $cmd" >&2; exit 2 ;;
esac
