# Sourced by scripts: start and stop a throw-away redis-server on a free loopback port.
#   local_redis_start [extra redis-server args...]   sets LOCAL_REDIS_PORT and LOCAL_REDIS_PID
#   local_redis_stop
# Never touches a system-wide Redis service.

local_redis_free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

local_redis_start() {
  command -v redis-server >/dev/null || return 1
  local attempt
  for attempt in 1 2 3; do
    LOCAL_REDIS_PORT=$(local_redis_free_port) || return 1
    redis-server --port "$LOCAL_REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
      --daemonize no --loglevel warning --logfile '' "$@" >/dev/null 2>&1 &
    LOCAL_REDIS_PID=$!
    for _ in $(seq 1 100); do
      if redis-cli -p "$LOCAL_REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
        return 0
      fi
      kill -0 "$LOCAL_REDIS_PID" 2>/dev/null || break
      sleep 0.05
    done
    kill -9 "$LOCAL_REDIS_PID" 2>/dev/null || true
  done
  return 1
}

local_redis_stop() {
  if [[ -n ${LOCAL_REDIS_PID:-} ]]; then
    kill "$LOCAL_REDIS_PID" 2>/dev/null || true
    wait "$LOCAL_REDIS_PID" 2>/dev/null || true
    LOCAL_REDIS_PID=
  fi
}
