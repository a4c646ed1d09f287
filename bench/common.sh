# Helpers that bench/run (with bench/flows.sh) and bench/setup.sh share, sourced by both; sourcing
# does nothing else. They read TESSERA (the release binary) and REDIRECT_URI, and Tessera's
# admin CLI finds the server's database in the environment, as `tessera serve` does.
# shellcheck shell=bash

uri() { jq -rn --arg v "$1" '$v|@uri'; }
basic() { printf '%s:%s' "$1" "$2" | base64 -w0; }

# COUNT PKCE pairs (S256, RFC 7636) as "verifier:challenge", separated by spaces.
pkce_pairs() { # COUNT
  node -e "const c = require('node:crypto'); for (let i = 0; i < $1; i++) {
    const v = c.randomBytes(32).toString('base64url');
    console.log(v + ':' + c.createHash('sha256').update(v).digest('base64url')); }" | tr '\n' ' '
}

# The session cookie ("tessera_session=…") a password sign-in at URL sets; empty if none.
password_session_cookie() { # URL EMAIL PASSWORD CSRF [CLIENT_ADDRESS]
  curl -s -o /dev/null -D - -H "Cookie: tessera_csrf=$4" -H "X-Forwarded-For: ${5:-192.0.2.2}" \
    --data-urlencode "csrf=$4" --data-urlencode "email=$2" --data-urlencode "password=$3" \
    "$1/login/password" | tr -d '\r' | sed -n 's/^set-cookie: \(tessera_session=[^;]*\).*/\1/Ip'
}

# Registers a confidential app with the admin CLI and sets its signing algorithm through the
# admin API at URL (with API key KEY); prints "id secret". The CLI logs to stderr.
register_app() { # URL KEY NAME ALG GRANT…
  local url=$1 key=$2 name=$3 alg=$4 created id settings grants grant flags=()
  shift 4
  for grant in "$@"; do flags+=(--grant-type "$grant"); done
  created=$("$TESSERA" admin create-client --name "$name" --type confidential \
    --redirect-uri "$REDIRECT_URI" "${flags[@]}" --scope bench:read) || return 1
  id=$(jq -r .client_id <<<"$created")
  grants=$(printf '%s\n' "$@" | jq -R . | jq -s .)
  settings=$(jq -n --arg name "$name" --arg uri "$REDIRECT_URI" --argjson grants "$grants" \
    --arg alg "$alg" '{name: $name, type: "confidential", redirect_uris: [$uri],
      grant_types: $grants, scopes: ["bench:read"], signing_alg: $alg}')
  curl -fsS -o /dev/null -X PUT -H "Authorization: Bearer $key" \
    -H 'content-type: application/json' -d "$settings" "$url/api/v1/clients/$id" || return 1
  echo "$id $(jq -r .client_secret <<<"$created")"
}
