#!/bin/bash
# Who may call (issue 14), against a real running netfaultd with real clients: curl over TLS
# with a CA this test makes with openssl, with and without a client certificate (and with one
# another CA signed); wrong, read-only and write bearer tokens; tokens and certificates reloaded
# on SIGHUP (a bad file keeps the old one); a rebinding-style Host on a loopback listener; a
# non-loopback listener without credentials refused at start. Emits TAP.
set -u
BIN=${1:?usage: test-auth.sh path/to/netfaultd}
# A network namespace of its own: one netfaultd per namespace, and other tests run beside this one.
if [ -z "${NF_AUTH_NS-}" ]; then NF_AUTH_NS=1 exec unshare -n "$0" "$@"; fi
ip link set lo up
T=$(mktemp -d)
n=0; failed=0; PID=
ok()   { n=$((n+1)); echo "ok $n - $*"; }
nok()  { n=$((n+1)); failed=$((failed+1)); echo "not ok $n - $*"; }
check() { local desc=$1; shift; if "$@"; then ok "$desc"; else nok "$desc"; fi; }
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
PORT=9741
stop() { kill -TERM $PID; wait $PID; local rc=$?; PID=; return $rc; }

# --- a CA, a server certificate for 127.0.0.1/localhost, a client certificate it signs, and a
# client certificate of a CA the daemon does not know.
ssl() { openssl "$@" >/dev/null 2>&1; }
mkca() { ssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/$1.key" -out "$T/$1.pem" -days 2 -subj "/CN=$1"; }
# mkcert NAME CA SUBJECT [SAN]
mkcert() {
  ssl req -newkey rsa:2048 -nodes -keyout "$T/$1.key" -out "$T/$1.csr" -subj "$3"
  printf '%s\n' "${4:-extendedKeyUsage=clientAuth}" >"$T/$1.ext"
  ssl x509 -req -in "$T/$1.csr" -CA "$T/$2.pem" -CAkey "$T/$2.key" -CAcreateserial -days 2 -out "$T/$1.pem" -extfile "$T/$1.ext"
}
mkca ca; mkca rogue
mkcert server ca "/CN=netfaultd-test" "subjectAltName=IP:127.0.0.1,DNS:localhost"
mkcert client ca "/O=GameDay/CN=runner-1"
mkcert intruder rogue "/CN=intruder"
check "openssl made the CA and certificates" test -s "$T/server.pem" -a -s "$T/client.pem" -a -s "$T/intruder.pem"

RSECRET=read-secret-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
WSECRET=write-secret-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '# name role secret\ngrafana read %s\n\nci write %s\n' "$RSECRET" "$WSECRET" >"$T/tokens"
chmod 600 "$T/tokens"

start() { "$BIN" --listen "127.0.0.1:$PORT" --state-dir "$T/state" "$@" 2>>"$T/log" & PID=$!
          for i in $(seq 100); do grep -q daemon.started "$T/log" 2>/dev/null && return 0
            kill -0 $PID 2>/dev/null || return 1; sleep 0.1; done; return 1; }
URL=https://127.0.0.1:$PORT
# c [curl args...] -> CODE, BODY, HDRS (CODE 000 when no HTTP reply came)
c() { CODE=$(curl -s --max-time 5 --cacert "$T/ca.pem" -o "$T/body" -D "$T/hdrs" -w '%{http_code}' "$@"); CRC=$?
      BODY=$(cat "$T/body" 2>/dev/null); HDRS=$(cat "$T/hdrs" 2>/dev/null); rm -f "$T/body" "$T/hdrs"; }
R=(-H "Authorization: Bearer $RSECRET"); W=(-H "Authorization: Bearer $WSECRET")
DRY='{"targets":["10.0.0.1"],"interfaces":["lo"],"blackhole":true}'
J=(-H 'Content-Type: application/json')

# --- TLS + mTLS + tokens
start --tls-cert "$T/server.pem" --tls-key "$T/server.key" --tls-client-ca "$T/ca.pem" --auth-token-file "$T/tokens" \
  || { nok "netfaultd starts with TLS, a client CA and tokens"; sed 's/^/# /' "$T/log"; echo "1..$n"; exit 1; }
ok "netfaultd starts with TLS, a client CA and tokens"
c "$URL/healthz"
check "HTTPS /healthz without credentials: 200 and only the status ($BODY)" \
  test "$CODE" = 200 -a "$BODY" = '{"status":"ok"}'
c "${R[@]}" "$URL/healthz"
check "HTTPS /healthz with a read token: the details too" grep -q '"heap_bytes"' <<<"$BODY"
c "$URL/v1/faults"
check "GET /v1/faults without credentials: 401" test "$CODE" = 401
check "  ... with WWW-Authenticate: Bearer" grep -qi '^WWW-Authenticate: Bearer' <<<"$HDRS"
check "  ... and a JSON error" grep -q '"code":"unauthenticated"' <<<"$BODY"
c -H "Authorization: Bearer not-$WSECRET" "$URL/v1/faults"
check "a wrong token: 401 invalid_token" sh -c "[ '$CODE' = 401 ] && grep -qi 'error=\"invalid_token\"' <<'E'
$HDRS
E"
c -H "Authorization: Basic $(printf 'ci:%s' "$WSECRET" | base64 -w0)" "$URL/v1/capabilities"
check "Basic credentials are not a bearer token: 401" test "$CODE" = 401
c "${R[@]}" "$URL/v1/faults"
check "a read token reads: 200" test "$CODE" = 200
c "${R[@]}" "$URL/v1/capabilities"
check "a read token reads /v1/capabilities: 200" test "$CODE" = 200
c "${R[@]}" -XDELETE "$URL/v1/faults"
forbidden() { [ "$CODE" = 403 ] && grep -q '"code":"forbidden"' <<<"$BODY"; }
check "a read token may not DELETE: 403 forbidden" forbidden
c "${R[@]}" "${J[@]}" -XPOST --data-binary "$DRY" "$URL/v1/faults?dry_run=true"
check "a read token may not POST (even a dry run): 403" test "$CODE" = 403
c "${W[@]}" "${J[@]}" -XPOST --data-binary "$DRY" "$URL/v1/faults?dry_run=true"
check "a write token plans a dry run: 200" test "$CODE" = 200
c "${W[@]}" -XDELETE "$URL/v1/faults"
check "a write token deletes: 200" test "$CODE" = 200
c --cert "$T/client.pem" --key "$T/client.key" -XDELETE "$URL/v1/faults"
check "a client certificate the CA signed, no token: 200 (write)" test "$CODE" = 200
c --cert "$T/client.pem" --key "$T/client.key" "${R[@]}" -XDELETE "$URL/v1/faults"
check "a client certificate with a read token: the token narrows it (403)" test "$CODE" = 403
c --cert "$T/intruder.pem" --key "$T/intruder.key" "$URL/healthz"
check "a client certificate of another CA: the handshake fails (curl exit $CRC, no reply)" test "$CODE" = 000 -a $CRC != 0
c --tlsv1.0 --tls-max 1.1 "$URL/healthz"
check "TLS 1.1 is refused (curl exit $CRC)" test "$CODE" = 000
c --tlsv1.2 --tls-max 1.2 "$URL/healthz"
check "TLS 1.2 is served" test "$CODE" = 200
c --tlsv1.3 "$URL/healthz"
check "TLS 1.3 is served" test "$CODE" = 200
code=$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")
check "plain HTTP on the TLS port gets no HTTP reply ($code)" test "$code" = 000
# Keep-alive over TLS: several requests on one connection, counted by the connection manager.
out=$(curl -s --cacert "$T/ca.pem" "${R[@]}" -w '%{num_connects}\n' "$URL/healthz" "$URL/healthz" "$URL/healthz" | grep -c '^[01]$')
check "three requests over one TLS connection" test "$out" = 3
check "the log names tokens, never their secrets" sh -c "grep -q 'grafana' '$T/log' && ! grep -qe '$RSECRET' -e '$WSECRET' '$T/log'"
check "the log names the refused caller's token" grep -q "http.forbidden.*token 'grafana'" "$T/log"

# --- SIGHUP: a new token file, a bad one, a new certificate
NSECRET=new-secret-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf 'ops write %s\n' "$NSECRET" >"$T/tokens.new"; chmod 600 "$T/tokens.new"; mv "$T/tokens.new" "$T/tokens"
kill -HUP $PID
for i in $(seq 50); do grep -q 'daemon.reload.*auth_tokens: 1 token' "$T/log" && break; sleep 0.1; done
c -H "Authorization: Bearer $NSECRET" "$URL/v1/faults"
check "SIGHUP: the new token works" test "$CODE" = 200
c "${W[@]}" "$URL/v1/faults"
check "SIGHUP: a removed token no longer does (401)" test "$CODE" = 401
printf 'ops admin %s\n' "$NSECRET" >"$T/tokens"
kill -HUP $PID
for i in $(seq 50); do grep -q 'daemon.reload_failed.*auth_tokens' "$T/log" && break; sleep 0.1; done
check "SIGHUP with a bad token file: logged with the reason" grep -q "daemon.reload_failed.*auth_tokens.*'admin' is not read or write.*keeping" "$T/log"
c -H "Authorization: Bearer $NSECRET" "$URL/v1/faults"
check "  ... and the previous tokens stay in force" test "$CODE" = 200
subject() { echo | openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$T/ca.pem" 2>/dev/null | openssl x509 -noout -subject 2>/dev/null; }
check "the server certificate in use ($(subject))" grep -q netfaultd-test <<<"$(subject)"
mkcert server2 ca "/CN=netfaultd-renewed" "subjectAltName=IP:127.0.0.1,DNS:localhost"
cp "$T/server2.pem" "$T/server.pem"; cp "$T/server2.key" "$T/server.key"
kill -HUP $PID
for i in $(seq 50); do [ "$(grep -c 'daemon.reload.*tls:' "$T/log")" -ge 3 ] && break; sleep 0.1; done
check "SIGHUP: the renewed certificate is served ($(subject))" grep -q netfaultd-renewed <<<"$(subject)"
cp "$T/intruder.key" "$T/server.key"
kill -HUP $PID
for i in $(seq 50); do grep -q 'daemon.reload_failed.*tls' "$T/log" && break; sleep 0.1; done
check "SIGHUP with a key that does not match: logged, kept" grep -q 'daemon.reload_failed: tls: --tls-key.*keeping' "$T/log"
grep 'reload_failed: tls' "$T/log" | sed 's/^/# /' 
c "$URL/healthz"
check "  ... and HTTPS still answers" test "$CODE" = 200
stop; check "netfaultd stops cleanly ($?)" [ $? = 0 ]
cp "$T/server2.key" "$T/server.key"

# --- start-up refusals: a bad token file, a half TLS configuration
printf '# name role secret\ngrafana read %s\n\nci write %s\n' "$RSECRET" "$WSECRET" >"$T/tokens"
: >"$T/log"
chmod 644 "$T/tokens"
"$BIN" --listen "127.0.0.1:$PORT" --state-dir "$T/state" --auth-token-file "$T/tokens" 2>"$T/log"; rc=$?
check "a token file anyone may read: exit 64 ($rc)" sh -c "[ $rc = 64 ] && grep -q 'may be read by anyone' '$T/log'"
chmod 600 "$T/tokens"
"$BIN" --listen "127.0.0.1:$PORT" --state-dir "$T/state" --tls-cert "$T/server.pem" 2>"$T/log"; rc=$?
check "--tls-cert without --tls-key: exit 64 ($rc)" sh -c "[ $rc = 64 ] && grep -q 'needs both --tls-cert and --tls-key' '$T/log'"

# --- a non-loopback listener needs credentials
"$BIN" --listen "0.0.0.0:$PORT" --state-dir "$T/state" 2>"$T/log"; rc=$?
check "--listen 0.0.0.0 without credentials: exit 64 ($rc)" [ $rc = 64 ]
check "  ... saying why" grep -q 'is not loopback: refusing to serve it without credentials' "$T/log"
NETFAULTD_LISTEN="[::]:$PORT" "$BIN" --state-dir "$T/state" 2>"$T/log"; rc=$?
check "NETFAULTD_LISTEN=[::] without credentials: exit 64 ($rc)" [ $rc = 64 ]
: >"$T/log"
start --listen "0.0.0.0:$PORT" --auth-token-file "$T/tokens"
check "--listen 0.0.0.0 with tokens starts" kill -0 $PID
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: anything.example' "http://127.0.0.1:$PORT/v1/faults")
check "  ... asks for a token (401, no Host check off loopback) ($code)" test "$code" = 401
stop
: >"$T/log"
start --listen "0.0.0.0:$PORT" --insecure-no-auth
check "--listen 0.0.0.0 --insecure-no-auth starts" kill -0 $PID
check "  ... and says so loudly (error level)" grep -q 'error.*http.insecure_no_auth.*WITHOUT ANY AUTHENTICATION' "$T/log"
stop

# --- DNS rebinding: a loopback listener serves loopback names only
: >"$T/log"
start --allowed-host nf.example,other.example
for h in "127.0.0.1:$PORT" "localhost:$PORT" "localhost" "[::1]:$PORT" "nf.example:$PORT" "OTHER.example"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $h" "http://127.0.0.1:$PORT/v1/faults")
  check "Host '$h' is served ($code)" test "$code" = 200
done
for h in "attacker.example:$PORT" "attacker.example" "127.0.0.1.nip.example" "nf.example.attacker.example"; do
  code=$(curl -s -o "$T/b" -w '%{http_code}' -XDELETE -H "Host: $h" "http://127.0.0.1:$PORT/v1/faults")
  check "Host '$h' (rebinding) on DELETE: 421 ($code)" sh -c "[ '$code' = 421 ] && grep -q misdirected_request '$T/b'"
done
check "refused Hosts are logged" grep -q "http.host_refused.*attacker.example" "$T/log"
out=$(curl -s "http://127.0.0.1:$PORT/healthz")
check "without credentials configured, loopback /healthz keeps its details" grep -q '"heap_bytes"' <<<"$out"
stop; check "netfaultd stops cleanly ($?)" [ $? = 0 ]

echo "1..$n"
[ $failed = 0 ]
