#!/bin/sh
# The password goes into a config file readable by root only, not onto the command line.
# REDIS_SAVE: the `save` rule (default "": no automatic snapshots); the RDB file is
# /data/dump.rdb (a volume in the test stack).
set -eu
conf=/run/testbed-redis.conf
mkdir -p /data
umask 077
{
  echo "bind 0.0.0.0"
  echo "protected-mode no"
  echo "port 6379"
  echo "save \"${REDIS_SAVE:-}\""
  echo "dir /data"
  echo "dbfilename dump.rdb"
  echo "appendonly no"
  if [ -n "${REDIS_PASSWORD:-}" ]; then
    printf 'requirepass "%s"\n' "$(printf '%s' "$REDIS_PASSWORD" | sed 's/["\\]/\\&/g')"
  fi
} >"$conf"
redis-server "$conf" &
pid=$!
trap 'kill -TERM $pid' INT TERM
i=0
# redis-cli takes the password from REDISCLI_AUTH (not argv).
until REDISCLI_AUTH="${REDIS_PASSWORD:-}" redis-cli -p 6379 ping 2>/dev/null | grep -q PONG; do
  i=$((i + 1)); [ $i -lt 300 ] || { echo "redis did not start" >&2; exit 1; }
  sleep 0.1
done
echo "SUTAZAI-TESTBED-READY"
wait $pid
