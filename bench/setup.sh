# The set-up bench/instructions and bench/profile share, sourced by them: a release server on a
# fresh PostgreSQL database and a Redis namespace of its own, as bench/run uses them, with an app
# per scenario, a signed-in browser, and a wrk script per scenario (bench/request.lua,
# bench/code-flow.lua). Callers set TESSERA and CEILING (the release binaries), define log() and
# die(), then call setup_server; `scenario NAME` picks a scenario's wrk script, URL and settings.
# shellcheck shell=bash

# shellcheck source=bench/common.sh
source bench/common.sh

REDIRECT_URI=https://app.bench.example/callback
SETUP_SCENARIOS="discovery jwks client_credentials client_credentials_RS256 authorization_code"
WORK=$(mktemp -d /tmp/tessera-bench-setup.XXXXXX)
DB=tessera_bench_setup_$$
NAMESPACE="tessera_bench_setup_$$:"
SERVER_PID=""

setup_cleanup() {
  [ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true
  [ -z "$SERVER_PID" ] || wait "$SERVER_PID" 2>/dev/null || true
  dropdb -h 127.0.0.1 -U postgres --if-exists "$DB" 2>/dev/null || true
  redis-cli -h 127.0.0.1 --scan --pattern "${NAMESPACE}*" 2>/dev/null |
    xargs -r redis-cli -h 127.0.0.1 del >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap setup_cleanup EXIT
trap 'exit 130' INT TERM

wait_for_server() {
  local _
  for _ in $(seq 600); do curl -fso /dev/null "$URL/healthz" && return; sleep 0.2; done
  die "the server did not answer"
}

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# The database, the environment every later `"$TESSERA" serve` reads, and on a plain server
# (migrations, keys): the apps, a password user and its browser's session cookie.
setup_server() {
  PORT=$(shuf -i 20000-60000 -n 1)
  URL=http://127.0.0.1:$PORT
  createdb -h 127.0.0.1 -U postgres "$DB"
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable"
  export REDIS_URL=redis://127.0.0.1:6379 TESSERA_REDIS_NAMESPACE=$NAMESPACE
  export TESSERA_DATA_DIR=$WORK/data TESSERA_LISTEN=127.0.0.1:$PORT TESSERA_PUBLIC_URL=$URL
  export RUST_LOG=warn TESSERA_PASSWORD_LOGIN=true TESSERA_TRUSTED_PROXY_HOPS=1
  "$TESSERA" serve 2>"$WORK/setup.log" &
  SERVER_PID=$!
  wait_for_server
  KEY=$("$TESSERA" admin create-key --name bench-setup 2>>"$WORK/setup.log" | tail -n 1)
  local apps
  apps=$({
    register_app "$URL" "$KEY" bench-cc ES256 client_credentials &&
      register_app "$URL" "$KEY" bench-cc-rs256 RS256 client_credentials &&
      register_app "$URL" "$KEY" bench-code ES256 authorization_code refresh_token
  } 2>>"$WORK/setup.log") || die "could not register the apps"
  { read -r CC_ID CC_SECRET; read -r RS_ID RS_SECRET; read -r CODE_ID CODE_SECRET; } <<<"$apps"
  local password csrf
  password=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  csrf=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
  psql -q -h 127.0.0.1 -U postgres -d "$DB" -v ON_ERROR_STOP=1 \
    -v phc="$("$CEILING" hash "$password")" >/dev/null <<'SQL'
WITH u AS (INSERT INTO users (id, email, email_verified, status, created_at, updated_at)
  VALUES (gen_random_uuid(), 'bench@example.com', true, 'active', now(), now()) RETURNING id)
INSERT INTO password_credentials (user_id, hash, created_at, updated_at)
SELECT id, :'phc', now(), now() FROM u;
SQL
  COOKIE=$(password_session_cookie "$URL" bench@example.com "$password" "$csrf")
  [ -n "$COOKIE" ] || die "the password sign-in gave no session cookie"
  stop_server
  PKCE=$(pkce_pairs 16)
}

# A scenario: sets WRK_SCRIPT, WRK_URL, COUNTED (the route whose 200s count requests) and
# exports the script's settings.
scenario() { # NAME
  unset BENCH_BODY BENCH_BASIC
  WRK_SCRIPT=bench/request.lua
  case $1 in
    discovery) WRK_URL=$URL/.well-known/openid-configuration COUNTED=/.well-known/openid-configuration ;;
    jwks) WRK_URL=$URL/oauth2/jwks COUNTED=/oauth2/jwks ;;
    client_credentials | client_credentials_RS256)
      WRK_URL=$URL/oauth2/token COUNTED=/oauth2/token
      export BENCH_BODY="grant_type=client_credentials&scope=bench%3Aread" BENCH_BASIC
      if [ "$1" = client_credentials ]; then
        BENCH_BASIC=$(basic "$CC_ID" "$CC_SECRET")
      else
        BENCH_BASIC=$(basic "$RS_ID" "$RS_SECRET")
      fi ;;
    authorization_code) # counted per flow: the token endpoint's 200s
      WRK_SCRIPT=bench/code-flow.lua WRK_URL=$URL COUNTED=/oauth2/token
      export BENCH_AUTHORIZE BENCH_TOKEN_PATH=/oauth2/token BENCH_COOKIES=$COOKIE BENCH_PKCE=$PKCE \
        BENCH_REDIRECT_URI BENCH_BASIC
      BENCH_AUTHORIZE="/oauth2/authorize?response_type=code&scope=$(uri 'openid offline_access bench:read')"
      BENCH_AUTHORIZE+="&redirect_uri=$(uri "$REDIRECT_URI")&code_challenge_method=S256"
      BENCH_AUTHORIZE+="&client_id=$CODE_ID&resource=$(uri "$URL/api")"
      BENCH_REDIRECT_URI=$(uri "$REDIRECT_URI") BENCH_BASIC=$(basic "$CODE_ID" "$CODE_SECRET") ;;
    *) die "unknown scenario $1 ($SETUP_SCENARIOS)" ;;
  esac
}

served() { # ROUTE: 200 answers of ROUTE so far
  curl -fsS "$URL/metrics" | awk -v route="route=\"$1\"" \
    'index($0, "http_requests_total{") == 1 && index($0, route) && /status="200"/ {n += $NF}
     END {print n + 0}'
}
