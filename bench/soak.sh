# The soak of bench/run (BENCH_SUITES=soak), sourced by it: Tessera alone under mixed load for
# BENCH_SOAK_MINUTES minutes (client credentials, introspection, the code flow and refresh
# rotation at once, each on its share of the connections), minute by minute: throughput, p99
# latency and resident memory, and whether they stayed flat. See bench/README.md ("Soak").
# shellcheck shell=bash disable=SC2154 # TESSERA_PID, CONNECTIONS, WORK… are bench/run's

SOAK_MINUTES=${BENCH_SOAK_MINUTES:-10}
SOAK_INTERVAL=${BENCH_SOAK_INTERVAL:-60}    # seconds per "minute" (shorter for a trial run)
SOAK_P99_GROWTH=1.5                         # last minute's p99 at most this times the first's
SOAK_RSS_GROWTH=${BENCH_SOAK_RSS_MIB:-16}   # MiB the resident set may grow, first to last
SOAK_MIX=(client_credentials_ES256 introspection authorization_code refresh_rotation)

declare -A SOAK_RPS SOAK_P99
SOAK_RSS=()
run_soak() {
  local minute s pid conns=$((CONNECTIONS / ${#SOAK_MIX[@]})) result
  ((conns > 0)) || conns=1
  log "soak: $SOAK_MINUTES x ${SOAK_INTERVAL}s of ${SOAK_MIX[*]} at once, $conns connections each"
  for s in "${SOAK_MIX[@]}"; do measure "$s" tessera "$WARMUP" "$conns" 1 >/dev/null; done
  [ -n "${IDLE_BUSY:-}" ] || IDLE_BUSY=$(cpu_busy)
  SOAK_RSS=("$(rss_mib "$TESSERA_PID")") # before: the baseline the growth is measured from
  for minute in $(seq "$SOAK_MINUTES"); do
    local pids=()
    for s in "${SOAK_MIX[@]}"; do
      measure "$s" tessera "$SOAK_INTERVAL" "$conns" 1 >"$WORK/soak-$s" &
      pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || die "soak period $minute failed"; done
    for s in "${SOAK_MIX[@]}"; do
      result=$(cat "$WORK/soak-$s")
      SOAK_RPS[$minute,$s]=${result% *} SOAK_P99[$minute,$s]=${result#* }
    done
    SOAK_RSS+=("$(rss_mib "$TESSERA_PID")")
    log "soak period $minute: RSS ${SOAK_RSS[-1]} MiB;" \
      "$(for s in "${SOAK_MIX[@]}"; do printf '%s %s/s p99 %s ms; ' "$s" \
        "${SOAK_RPS[$minute,$s]}" "${SOAK_P99[$minute,$s]}"; done)"
  done
}

print_soak_report() {
  local minute s flat=yes growth first last
  echo "Soak: Tessera alone, ${SOAK_MIX[*]} at once ($((CONNECTIONS / ${#SOAK_MIX[@]}))" \
    "connections and 1 wrk thread each), $SOAK_MINUTES periods of ${SOAK_INTERVAL}s; RSS at" \
    "the end of each period (before: ${SOAK_RSS[0]} MiB)"
  echo
  printf '| period |'
  for s in "${SOAK_MIX[@]}"; do printf ' %s req/s, p99 |' "$s"; done
  echo " RSS |"
  printf '|---:|'
  for s in "${SOAK_MIX[@]}"; do printf -- '---:|'; done
  echo '---:|'
  for minute in $(seq "$SOAK_MINUTES"); do
    printf '| %s |' "$minute"
    for s in "${SOAK_MIX[@]}"; do
      printf ' %.0f, %s ms |' "${SOAK_RPS[$minute,$s]}" "${SOAK_P99[$minute,$s]}"
    done
    echo " ${SOAK_RSS[$minute]} MiB |"
  done
  echo
  for s in "${SOAK_MIX[@]}"; do
    first=${SOAK_P99[1,$s]} last=${SOAK_P99[$SOAK_MINUTES,$s]}
    if awk -v f="$first" -v l="$last" -v g="$SOAK_P99_GROWTH" 'BEGIN {exit !(l <= f * g)}'; then
      echo "- $s p99: $first ms first, $last ms last: flat (within ${SOAK_P99_GROWTH}x)"
    else
      echo "- $s p99: $first ms first, $last ms last: NOT flat (over ${SOAK_P99_GROWTH}x)"
      flat=no
    fi
  done
  growth=$((SOAK_RSS[SOAK_MINUTES] - SOAK_RSS[1]))
  if ((growth <= SOAK_RSS_GROWTH)); then
    echo "- RSS: ${SOAK_RSS[1]} MiB after the first period, ${SOAK_RSS[$SOAK_MINUTES]} MiB" \
      "after the last: flat (grew $growth MiB, at most $SOAK_RSS_GROWTH allowed)"
  else
    echo "- RSS: ${SOAK_RSS[1]} MiB after the first period, ${SOAK_RSS[$SOAK_MINUTES]} MiB" \
      "after the last: NOT flat (grew $growth MiB, over $SOAK_RSS_GROWTH)"
    flat=no
  fi
  echo "- verdict: $([ "$flat" = yes ] && echo flat || echo 'NOT flat')"
}
