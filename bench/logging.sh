# What the access log costs (`BENCH_SUITES=logging`), sourced by bench/run: discovery on a
# second Tessera at the default log level (`info`: an access line per request, text format,
# stderr to a file as a container runtime's pipe would take it) against the first, which runs
# at `warn` like every other suite; both on the same database and Redis, interleaved rounds.
# See bench/README.md ("The access log").
# shellcheck shell=bash disable=SC2154 # TESSERA, TESSERA_PID, TURL, WORK… are bench/run's

declare -A LOG_RPS LOG_CPU

start_logging_tessera() {
  LOG_PORT=$(free_port)
  (
    unset RUST_LOG
    export TESSERA_LOG_FORMAT=text
    tessera_on "$DB" "$LOG_PORT"
  ) 2>>"$WORK/tessera-info.log" & # appending, so that it can be emptied between rounds
  LOG_PID=$!
  PIDS+=("$LOG_PID")
  wait_for "http://127.0.0.1:$LOG_PORT/healthz"
  log "tessera $LOG_PID at the default log level on port $LOG_PORT"
}

# PID URL SECONDS: "rps cpu_ms_per_request" of one wrk run of discovery against PID's server.
measure_discovery() {
  local before after out line rps requests
  before=$(awk '{print $14 + $15}' "/proc/$1/stat")
  out=$(wrk -t "$THREADS" -c "$CONNECTIONS" -d "${3}s" --timeout 5s -s bench/request.lua \
    "$2/.well-known/openid-configuration" 2>&1) || die "wrk failed on $2: $out"
  after=$(awk '{print $14 + $15}' "/proc/$1/stat")
  line=$(grep '^BENCH ' <<<"$out") || die "no summary from wrk on $2: $out"
  [[ $line == *" bad_status=0 "* ]] || die "discovery on $2 answered errors: $line"
  rps=$(sed 's/.*rps=\([^ ]*\).*/\1/' <<<"$line")
  requests=$(sed 's/.*requests=\([^ ]*\).*/\1/' <<<"$line")
  awk -v r="$rps" -v n="$requests" -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN {printf "%s %.4f\n", r, 1000 * t / hz / n}'
}

run_logging() {
  local round level pid url result
  start_logging_tessera
  LOG_LINES=0
  for level in warn info; do # warm-up
    pid=$TESSERA_PID url=$TURL
    [ "$level" = warn ] || pid=$LOG_PID url=http://127.0.0.1:$LOG_PORT
    measure_discovery "$pid" "$url" "$WARMUP" >/dev/null
  done
  : >"$WORK/tessera-info.log"
  for round in $(seq "$ROUNDS"); do
    for level in warn info; do
      pid=$TESSERA_PID url=$TURL
      [ "$level" = warn ] || pid=$LOG_PID url=http://127.0.0.1:$LOG_PORT
      result=$(measure_discovery "$pid" "$url" "$DURATION")
      if [ "$level" = info ]; then # its lines, then room for the next round's (~150 MB each)
        LOG_LINES=$((LOG_LINES + $(grep -c 'request completed' "$WORK/tessera-info.log" || true)))
        : >"$WORK/tessera-info.log"
      fi
      log "discovery at $level, round $round: ${result% *} req/s, ${result#* } ms CPU per request"
      LOG_RPS[$level]+="${result% *} " LOG_CPU[$level]+="${result#* } "
    done
  done
}

print_logging_report() {
  local warn info
  warn=$(median "${LOG_RPS[warn]}") info=$(median "${LOG_RPS[info]}")
  echo "The access log: discovery at the default level (an access line per request) and at warn"
  echo
  echo "| log level | req/s (median) | CPU per request (Tessera) |"
  echo "|---|---:|---:|"
  echo "| warn (no access lines) | $warn | $(median "${LOG_CPU[warn]}") ms |"
  echo "| info, the default ($LOG_LINES access lines written in the rounds) | $info | $(median "${LOG_CPU[info]}") ms |"
  echo "| info / warn | $(awk -v i="$info" -v w="$warn" 'BEGIN {printf "%.0f%%", 100 * i / w}') | |"
}
