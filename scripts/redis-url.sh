#!/usr/bin/env bash
# Prints the Redis URL to use: $REDIS_URL if set; else a Redis already answering on
# 127.0.0.1:6379; else one of our own started from redis-server (data in var/redis);
# else nothing (the app then uses its no-Redis fallback, see meetpilot/settings/runtime.py).
# $1 picks the database number (tests use their own).
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:-0}
if [ -n "${REDIS_URL:-}" ]; then echo "$REDIS_URL"; exit 0; fi
ping() { (exec 3<>/dev/tcp/127.0.0.1/"$1" && printf 'PING\r\n' >&3 && timeout 1 head -c 5 <&3 | grep -q PONG) 2>/dev/null; }
if ping 6379; then echo "redis://127.0.0.1:6379/$db"; exit 0; fi
port=${MEETPILOT_REDIS_PORT:-6389}
if ping "$port"; then echo "redis://127.0.0.1:$port/$db"; exit 0; fi
if command -v redis-server >/dev/null; then
  mkdir -p var/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --dir "$PWD/var/redis" \
    --logfile "$PWD/var/redis/redis.log" --save "" --appendonly no >/dev/null
  for _ in $(seq 1 50); do ping "$port" && break; sleep 0.1; done
  echo "redis://127.0.0.1:$port/$db"
fi
