# The SCIM suite of bench/run (BENCH_SUITES=scim), sourced by it: one organization's directory
# with BENCH_SCIM_USERS users (100,000), a group holding half of them and ten teams of 100,
# queried and patched through the real SCIM endpoint with a real SCIM token. See
# bench/README.md ("SCIM at 100,000 users").
# shellcheck shell=bash disable=SC2154 # TURL, TESSERA, WORK, DB… are bench/run's

SCIM_USERS=${BENCH_SCIM_USERS:-100000}
SCIM_LARGE_MEMBERS=$((SCIM_USERS / 2)) # in the group "Everyone"
SCIM_TEAMS=10 SCIM_TEAM_MEMBERS=100    # "Team 01" … "Team 10"
SCIM_DURATION=${BENCH_SCIM_DURATION:-5}            # seconds per measured wrk run
SCIM_CONNECTIONS=${BENCH_SCIM_CONNECTIONS:-2}      # for latency: one request per core at a time
SCIM_SCENARIOS=(eq page filtered contains broad walk jump patch_user patch_member group team)
declare -A SCIM_WHAT=(
  [eq]='GET /Users?filter=userName eq "…" (a random user)'
  [page]='GET /Users?startIndex=1&count=100'
  [filtered]='GET /Users?filter=emails.value sw "user0123"&count=100 (100 of 100,000 match)'
  [contains]='GET /Users?filter=emails.value co "r0123"&count=100 (100 match)'
  [broad]='GET /Users?filter=title pr&count=100 (all match)'
  [walk]='GET /Users?startIndex=…&count=100, every page in order'
  [jump]='GET /Users?startIndex=<random, second half>&count=100, no page before it'
  [patch_user]='PATCH /Users/{id}: replace title'
  [patch_member]='PATCH /Groups/{Everyone}: add, then remove, a member'
  [group]='GET /Groups/{Everyone}?excludedAttributes=members'
  [team]='GET /Groups/{Team}: 100 members'
)
declare -A SCIM_TARGET=([eq]='p99 < 5 ms' [page]='p50 < 5 ms' [filtered]='p50 < 5 ms'
  [contains]='p50 < 5 ms' [walk]='p50 < 5 ms')

scim_api() { # METHOD PATH [JSON]: the admin API with the suite's key
  curl -fsS -X "$1" -H "Authorization: Bearer $SCIM_KEY" -H 'content-type: application/json' \
    ${3:+-d "$3"} "$TURL/api/v1$2"
}

scim_call() { # METHOD PATH [JSON]: the SCIM endpoint with the suite's token
  curl -fsS -X "$1" -H "Authorization: Bearer $SCIM_TOKEN" \
    -H 'content-type: application/scim+json' ${3:+-d "$3"} "$SCIM_BASE$2"
}

# An org with a role rule, a SCIM token, a template user and the groups through the endpoint;
# then bench/scim-seed.sql clones the template into SCIM_USERS users and fills the groups.
seed_scim() {
  local org template k sql
  SCIM_KEY=$("$TESSERA" admin create-key --name bench-scim 2>>"$WORK/tessera.log" | tail -n 1)
  org=$(scim_api POST /organizations '{"name": "SCIM bench", "slug": "scim-bench"}' | jq -r .id)
  read -r SCIM_TOKEN SCIM_BASE < <(scim_api POST "/organizations/$org/scim-tokens" \
    '{"name": "bench"}' | jq -r '"\(.token) \(.base_url)"')
  # Roles from groups, as orgs that provision groups have: every write recomputes them.
  scim_api PUT "/organizations/$org/role-mappings" '{"rules": [{"claim": "groups",
    "op": "equals", "value": "Everyone", "role": "staff"}], "default_role": "member"}' >/dev/null
  template=$(jq -n '{
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User",
      "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
    userName: "userTPL@bench.example", externalId: "ext-TPL", active: true,
    name: {givenName: "GivenTPL", familyName: "FamilyTPL", formatted: "GivenTPL FamilyTPL"},
    displayName: "GivenTPL FamilyTPL", title: "Engineer",
    emails: [{value: "userTPL@bench.example", type: "work", primary: true}],
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
      {employeeNumber: "TPL", department: "Engineering"}}')
  template=$(scim_call POST /Users "$template" | jq -r .id)
  SCIM_GROUP=$(scim_call POST /Groups '{"displayName": "Everyone"}' | jq -r .id)
  for k in $(seq -w 1 "$SCIM_TEAMS"); do
    scim_call POST /Groups "{\"displayName\": \"Team $k\"}" >/dev/null
  done
  log "scim: seeding $SCIM_USERS users"
  psql -q -h 127.0.0.1 -U postgres -d "$DB" -v org="$org" -v tpl="$template" \
    -v n="$SCIM_USERS" -v large="$SCIM_GROUP" -v large_members="$SCIM_LARGE_MEMBERS" \
    -v team_members="$SCIM_TEAM_MEMBERS" -f bench/scim-seed.sql >/dev/null
  sql="SELECT id FROM scim_users WHERE org_id = '$org' AND user_name_norm ~ '^user[0-9]{6}@'"
  psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "$sql ORDER BY user_name_norm" >"$WORK/ids"
  psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "$sql AND user_name_norm >= \
    'user$(printf %06d $((SCIM_LARGE_MEMBERS + 1)))' ORDER BY user_name_norm" >"$WORK/outside"
  psql -h 127.0.0.1 -U postgres -d "$DB" -Atc "SELECT id FROM scim_groups WHERE org_id = \
    '$org' AND display_name LIKE 'Team %'" >"$WORK/teams"
  check_scim_seed
}

# The seeded directory answers as a provisioned one would, through the endpoint.
check_scim_seed() {
  local n found total
  n=$(printf %06d $((SCIM_USERS / 3)))
  found=$(scim_call GET "/Users?filter=userName%20eq%20%22USER$n@bench.example%22" |
    jq -c '[.totalResults, .Resources[0].userName, .Resources[0].name.givenName]')
  [ "$found" = "[1,\"user$n@bench.example\",\"Given$n\"]" ] ||
    die "a seeded user's lookup answered $found"
  total=$(scim_call GET "/Users?count=0" | jq .totalResults)
  ((total == SCIM_USERS + 1)) || die "the directory counts $total users"
  found=$(scim_call GET "/Users?filter=emails.value%20sw%20%22user0123%22&count=1" | jq .totalResults)
  ((found == 100 || SCIM_USERS < 12400)) || die "emails.value sw \"user0123\" found $found"
  found=$(scim_call GET "/Users?filter=groups.value%20eq%20%22$SCIM_GROUP%22&count=0" |
    jq .totalResults)
  ((found == SCIM_LARGE_MEMBERS)) || die "the large group has $found members"
  [ "$(wc -l <"$WORK/ids")" -eq "$SCIM_USERS" ] || die "the id list is incomplete"
}

measure_scim() { # MODE SECONDS CONNECTIONS: prints "rps p50_ms p99_ms tessera_ms postgres_ms redis_ms"
  local out line bad kv before ids=$WORK/ids
  [ "$1" = patch_member ] && ids=$WORK/outside
  before=$(cpu_snapshot)
  out=$(BENCH_SCIM_MODE=$1 BENCH_TOKEN=$SCIM_TOKEN BENCH_USERS=$SCIM_USERS BENCH_IDS=$ids \
    BENCH_GROUP=$SCIM_GROUP BENCH_TEAMS=$WORK/teams \
    BENCH_WALKERS=$(($3 / THREADS > 0 ? $3 / THREADS : 1)) \
    wrk -t "$THREADS" -c "$3" -d "${2}s" --timeout 10s -s bench/scim.lua "$SCIM_BASE" 2>&1) ||
    die "wrk failed on scim $1: $out"
  line=$(grep '^BENCH ' <<<"$out") || die "no summary from wrk on scim $1: $out"
  declare -A r
  for kv in ${line#BENCH }; do r[${kv%%=*}]=${kv#*=}; done
  bad=$((r[bad_status] + r[connect] + r[read] + r[write] + r[timeout]))
  ((r[requests] > 0 && bad <= MAX_ERRORS)) || die "scim $1: $line"
  echo "${r[rps]} ${r[p50_ms]} ${r[p99_ms]} $(cpu_per_request "$before" "$(cpu_snapshot)" \
    "${r[requests]}")"
}

# Each round measures every scenario twice: latency with SCIM_CONNECTIONS (an IdP's jobs send
# a request at a time), throughput with CONNECTIONS (the server saturated).
declare -A SCIM_RPS SCIM_P50 SCIM_P99 SCIM_CPU SCIM_DB
run_scim() {
  local s round rps p50 p99 cpu db
  [ -n "${BENCH_SCIM_SCENARIOS:-}" ] && read -r -a SCIM_SCENARIOS <<<"$BENCH_SCIM_SCENARIOS"
  log "scim: warm-up ${WARMUP}s per scenario"
  for s in "${SCIM_SCENARIOS[@]}"; do measure_scim "$s" "$WARMUP" "$CONNECTIONS" >/dev/null; done
  [ -n "${IDLE_BUSY:-}" ] || IDLE_BUSY=$(cpu_busy)
  for round in $(seq "$ROUNDS"); do
    for s in "${SCIM_SCENARIOS[@]}"; do
      read -r _ p50 p99 _ _ < <(measure_scim "$s" "$SCIM_DURATION" "$SCIM_CONNECTIONS")
      read -r rps _ _ cpu db _ < <(measure_scim "$s" "$SCIM_DURATION" "$CONNECTIONS")
      log "scim $s round $round: $rps req/s ($CONNECTIONS connections; CPU per request" \
        "$cpu ms Tessera, $db ms PostgreSQL), p50 $p50 ms, p99 $p99 ms ($SCIM_CONNECTIONS" \
        "connections)"
      SCIM_RPS[$s]+="$rps " SCIM_P50[$s]+="$p50 " SCIM_P99[$s]+="$p99 "
      SCIM_CPU[$s]+="$cpu " SCIM_DB[$s]+="$db "
    done
  done
}

print_scim_report() {
  local s
  echo "SCIM at $SCIM_USERS users in one organization (PostgreSQL), through the SCIM endpoint" \
    "with a SCIM token; $ROUNDS rounds of ${SCIM_DURATION}s per scenario and load; medians"
  echo
  echo "| scenario | request | req/s ($CONNECTIONS connections) |" \
    "p50 ($SCIM_CONNECTIONS connections) | p99 ($SCIM_CONNECTIONS connections) | target |" \
    "CPU per request: Tessera + PostgreSQL |"
  echo "|---|---|---:|---:|---:|---|---:|"
  for s in "${SCIM_SCENARIOS[@]}"; do
    printf '| %s | %s | %.0f | %s ms | %s ms | %s | %s + %s ms |\n' "scim_$s" \
      "${SCIM_WHAT[$s]}" "$(median "${SCIM_RPS[$s]}")" "$(median "${SCIM_P50[$s]}")" \
      "$(median "${SCIM_P99[$s]}")" "${SCIM_TARGET[$s]:-}" "$(median "${SCIM_CPU[$s]}")" \
      "$(median "${SCIM_DB[$s]}")"
  done
}
