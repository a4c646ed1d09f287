# Memory under load and cold start for bench/run's peer suite, sourced by it: the largest
# resident set of each server while the rounds run (sampled from /proc every half second), and
# how long a new process takes from exec until it answers, with its state already in place and
# (Tessera) on an empty database. See bench/README.md ("Memory and cold start").
# shellcheck shell=bash disable=SC2154 # TESSERA, TESSERA_PID, PEER_PID, WORK… are bench/run's

# Writes "tessera_kib peer_kib" every 0.5 s to $WORK/rss until stopped; the peer is its
# primary and its workers.
start_rss_sampler() {
  local pids
  pids=$(peer_pids)
  (
    while :; do
      # shellcheck disable=SC2046,SC2086 # one pid each
      awk '/^VmRSS/ {kb[FILENAME == t] += $2} END {print kb[1] + 0, kb[0] + 0}' \
        t="/proc/$TESSERA_PID/status" "/proc/$TESSERA_PID/status" \
        $(printf '/proc/%s/status ' $pids) 2>/dev/null
      sleep 0.5
    done
  ) >"$WORK/rss" &
  RSS_SAMPLER=$!
  PIDS+=("$RSS_SAMPLER")
}

stop_rss_sampler() {
  kill "$RSS_SAMPLER" 2>/dev/null || true
  wait "$RSS_SAMPLER" 2>/dev/null || true
  read -r TRSS_MAX PRSS_MAX < <(awk '$1 > t {t = $1} $2 > p {p = $2}
    END {printf "%.0f %.0f\n", t / 1024, p / 1024}' "$WORK/rss")
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Starts COMMAND… in the background and prints the milliseconds until URL answers 200, then
# stops it. The poll costs a curl every 5 ms, so the figure is a few ms high at most.
time_start() { # URL COMMAND…
  local url=$1 started pid elapsed
  shift
  started=$(now_ms)
  "$@" >>"$WORK/cold.log" 2>&1 &
  pid=$!
  until curl -fso /dev/null "$url"; do
    kill -0 "$pid" 2>/dev/null || die "$* exited before answering (see cold.log)"
    (($(now_ms) - started < 60000)) || die "$* did not answer within 60 s"
    sleep 0.005
  done
  elapsed=$(($(now_ms) - started))
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$elapsed"
}

# A second Tessera on DATABASE (the running one's replica, or a new database with a Redis
# namespace of its own) and its own port.
tessera_on() { # DATABASE PORT [NAMESPACE]
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/$1$DB_PARAMS TESSERA_LISTEN=127.0.0.1:$2 \
    TESSERA_PUBLIC_URL=http://127.0.0.1:$2 TESSERA_REDIS_NAMESPACE=${3:-$NAMESPACE} \
    exec "$TESSERA" serve
}

COLD_MIGRATED="" COLD_EMPTY="" COLD_PEER=""
run_cold_starts() {
  local i port db
  log "cold start: $COLD_STARTS starts each"
  for i in $(seq "$COLD_STARTS"); do
    port=$(free_port)
    COLD_MIGRATED+="$(time_start "http://127.0.0.1:$port/healthz" tessera_on "$DB" "$port") "
    db=${DB}_cold$i port=$(free_port)
    createdb -h 127.0.0.1 -U postgres "$db"
    COLD_EMPTY+="$(time_start "http://127.0.0.1:$port/healthz" tessera_on "$db" "$port" \
      "${NAMESPACE}cold$i:") "
    dropdb -h 127.0.0.1 -U postgres "$db"
    port=$(free_port)
    COLD_PEER+="$(time_start "http://127.0.0.1:$port/.well-known/openid-configuration" \
      peer_serve "$port") "
  done
  log "cold start (ms): migrated $COLD_MIGRATED; empty database $COLD_EMPTY; peer $COLD_PEER"
}

print_startup_rows() {
  echo "| RSS under load (largest, measured rounds) | $TRSS_MAX MiB | $PRSS_MAX MiB | | | | | | |"
  printf '| cold start to first answer (median of %s) | %s ms | %s ms | | | | | | |\n' \
    "$COLD_STARTS" "$(median "$COLD_MIGRATED")" "$(median "$COLD_PEER")"
  printf '| cold start on an empty database (migrations, keys) | %s ms | | | | | | | |\n' \
    "$(median "$COLD_EMPTY")"
}
