# The user-facing scenarios of bench/run's peer suite, sourced by it: a web app (confidential,
# ES256 on both servers) that signs users in with the authorization code flow and PKCE,
# rotates refresh tokens and introspects access tokens, on Tessera and on the peer alike.
# See bench/README.md ("What it measures").
# shellcheck shell=bash disable=SC2154 # TURL, PURL, TESSERA, WORK… are bench/run's

REDIRECT_URI=https://app.bench.example/callback
FLOW_SCOPE="openid offline_access bench:read"
PKCE_PAIRS=64 # verifier:challenge pairs the code flow cycles through
# Signed-in browsers (users) the code flow cycles through: many people sign in to an app, not
# one person thousands of times a second (with one user, every concurrent token request's
# foreign-key checks lock the same rows; measured at 32 connections, that cost nothing
# visible, bench/README.md). At most 99.
FLOW_USERS=${BENCH_FLOW_USERS:-32}

# Tessera's web app (first party: no consent screen), ES256 like the peer's `bench-code`.
register_tessera_code_app() {
  local key app
  key=$("$TESSERA" admin create-key --name bench-flows 2>>"$WORK/tessera.log" | tail -n 1)
  app=$(register_app "$TURL" "$key" bench-code ES256 authorization_code refresh_token \
    2>>"$WORK/tessera.log") || die "could not register the code-flow app"
  read -r TCODE_ID TCODE_SECRET <<<"$app"
}

# FLOW_USERS signed-in browsers on each server, one user each: on Tessera password sign-ins of
# seeded accounts (as the password suite does; each from its own address, as people sign in),
# on the peer its interaction pages (login, then consent once). TCOOKIES and PCOOKIES hold
# their Cookie headers separated by "|"; TCOOKIE and PCOOKIE the first.
sign_in_browsers() {
  local i cookie
  ((FLOW_USERS >= 1 && FLOW_USERS < ACCOUNTS)) || die "BENCH_FLOW_USERS must be 1 to $((ACCOUNTS - 1))"
  seed_password_accounts
  TCOOKIES="" PCOOKIES=""
  for i in $(seq "$FLOW_USERS"); do
    cookie=$(password_session_cookie "$TURL" "bench$i@example.com" "$PASSWORD" "$CSRF" \
      "192.0.2.$((100 + i))")
    [ -n "$cookie" ] || die "the password sign-in of bench$i gave no session cookie"
    TCOOKIES+="${TCOOKIES:+|}$cookie"
    with_peer || continue
    cookie=$(node bench/peer/code-flow.mjs session "$PURL" bench-code "$PSECRET" \
      "$REDIRECT_URI" "bench-user-$i" "$PSECRET" "$PURL/api") || die "could not sign in at the peer"
    PCOOKIES+="${PCOOKIES:+|}$cookie"
  done
  TCOOKIE=${TCOOKIES%%|*} PCOOKIE=${PCOOKIES%%|*} LAST_SIGN_IN=$SECONDS
}

# COUNT code flows on SERVER; prints "REFRESH_TOKEN ACCESS_TOKEN" lines. The first flow's
# tokens are checked (ES256 ID token and at+jwt access token against the server's JWKS).
code_flows() { # SERVER COUNT [RESOURCE]
  if [ "$1" = tessera ]; then
    node bench/peer/code-flow.mjs tokens "$TURL" "$TCODE_ID" "$TCODE_SECRET" "$REDIRECT_URI" \
      "$TCOOKIE" "$2" ${3:+"$3"}
  else
    node bench/peer/code-flow.mjs tokens "$PURL" bench-code "$PSECRET" "$REDIRECT_URI" \
      "$PCOOKIE" "$2" ${3:+"$3"}
  fi
}

# The refresh scenario's PREPARE hook: fresh chains before every wrk run, more than wrk has
# connections (a run ends with requests in flight, whose next tokens nobody receives).
seed_chains() { # SERVER CONNECTIONS THREADS
  local resource=$TURL/api
  [ "$1" = peer ] && resource=$PURL/api
  code_flows "$1" $(($2 + 4 * $3)) "$resource" 2>>"$WORK/flows.log" | cut -d' ' -f1 >"$WORK/chains-$1" ||
    die "could not seed refresh chains on $1"
}

# Introspection must say the scenario's token is active, on both servers, before measuring.
check_introspection() { # URL BASIC TOKEN
  local active
  active=$(curl -fsS -H "Authorization: Basic $2" --data-urlencode "token=$3" "$1" | jq .active)
  [ "$active" = true ] || die "$1 does not find its own access token active"
}

define_flow_scenarios() {
  local pairs authorize tbasic pbasic tat pat=""
  register_tessera_code_app
  sign_in_browsers
  pairs=$(pkce_pairs "$PKCE_PAIRS")
  tbasic=$(basic "$TCODE_ID" "$TCODE_SECRET") pbasic=$(basic bench-code "$PSECRET")

  # Introspection of an access token from a code flow, by the app it was issued to. Tessera's
  # are JWTs (checked, then the grant and the user looked up); oidc-provider introspects only
  # opaque tokens (it refuses JWTs), so the peer's is the opaque one a flow without a resource
  # gets (looked up in Redis with its grant).
  tat=$(code_flows tessera 1 "$TURL/api" | cut -d' ' -f2)
  check_introspection "$TURL/oauth2/introspect" "$tbasic" "$tat"
  if with_peer; then
    pat=$(code_flows peer 1 | cut -d' ' -f2)
    check_introspection "$PINTROSPECT" "$pbasic" "$pat"
  fi
  scenario introspection tessera "$TURL/oauth2/introspect" "token=$tat" "$tbasic"
  scenario introspection peer "$PINTROSPECT" "token=$pat" "$pbasic"

  # A whole sign-in: authorize with the session cookie, then the code for tokens with PKCE.
  authorize="response_type=code&scope=$(uri "$FLOW_SCOPE")&redirect_uri=$(uri "$REDIRECT_URI")"
  authorize+="&code_challenge_method=S256"
  scenario authorization_code tessera "$TURL" "" "$tbasic" bench/code-flow.lua \
    "BENCH_AUTHORIZE=/oauth2/authorize?$authorize&client_id=$TCODE_ID&resource=$(uri "$TURL/api")
BENCH_TOKEN_PATH=/oauth2/token
BENCH_COOKIES=$TCOOKIES
BENCH_PKCE=$pairs
BENCH_REDIRECT_URI=$(uri "$REDIRECT_URI")"
  scenario authorization_code peer "$PURL" "" "$pbasic" bench/code-flow.lua \
    "BENCH_AUTHORIZE=$(path_of "$PAUTHORIZE")?$authorize&client_id=bench-code&resource=$(uri "$PURL/api")
BENCH_TOKEN_PATH=$(path_of "$PTOKEN")
BENCH_COOKIES=$PCOOKIES
BENCH_PKCE=$pairs
BENCH_REDIRECT_URI=$(uri "$REDIRECT_URI")"

  # Refresh with rotation: each answer's refresh token is the next request's, chain by chain.
  scenario refresh_rotation tessera "$TURL/oauth2/token" "" "$tbasic" bench/refresh.lua \
    "BENCH_TOKENS=$WORK/chains-tessera" seed_chains
  scenario refresh_rotation peer "$PTOKEN" "" "$pbasic" bench/refresh.lua \
    "BENCH_TOKENS=$WORK/chains-peer" seed_chains
}

with_peer() { [[ $SERVERS == *" peer "* ]]; }

path_of() { local rest=${1#*://}; echo "/${rest#*/}"; }
