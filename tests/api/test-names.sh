#!/bin/bash
# Targets by name, against a real running netfaultd: hostnames resolved by a real DNS exchange
# (tests/lab/guest/dnsd.c on loopback, in a private network and mount namespace whose
# /etc/resolv.conf points at it) and aws: selections from the shipped ip-ranges.json excerpt.
# Uses dry runs, which plan on any kernel; the traffic side is proven in the kernel lab.
# Emits TAP. Needs root (unshare).
set -u
BIN=${1:?usage: test-names.sh netfaultd dnsd}
DNSD=${2:?}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat >"$T/zone" <<'ZONE'
dynamodb.lab.test A 10.0.1.10 1
dynamodb.lab.test AAAA fd00:1::10 1
alb.lab.test A 10.0.2.10 30
alb.lab.test A 10.0.2.11 30
v6only.lab.test AAAA fd00:9::10 30
ZONE
echo "nameserver 127.0.0.1" >"$T/resolv.conf"
cat >"$T/inner.sh" <<'INNER'
set -u
mount --bind "$T/resolv.conf" /etc/resolv.conf
ip link set lo up
"$DNSD" 127.0.0.1 53 "$T/zone" & dpid=$!
AWS_REGION=ap-northeast-1 "$BIN" --listen 127.0.0.1:9700 --state-dir "$T/state" \
    --aws-ip-ranges "$ROOT/tests/fixtures/aws-ip-ranges.json" 2>"$T/log" & npid=$!
for i in $(seq 50); do curl -s -o /dev/null localhost:9700/healthz && break; sleep 0.1; done
n=0; failed=0
post() { CODE=$(curl -s -o "$T/body" -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
             "localhost:9700/v1/faults?dry_run=true" --data-binary "$1"); BODY=$(cat "$T/body"); }
expect() { local desc=$1 code=$2; shift 2; local good=1
  [ "$CODE" = "$code" ] || good=0
  for s in "$@"; do grep -qF -- "$s" <<<"$BODY" || good=0; done
  n=$((n+1)); if [ $good = 1 ]; then echo "ok $n - $desc ($CODE)"; else failed=$((failed+1)); echo "not ok $n - $desc: got $CODE $BODY"; fi; }

post '{"targets":["dynamodb.lab.test"],"interfaces":["lo"],"delay":{"ms":100}}'
expect "a hostname resolves to its A and AAAA records" 200 '"target":"dynamodb.lab.test"' '"10.0.1.10/32"' '"fd00:1::10/128"' '"resolved_at"'
expect "the dry run plans one filter per address" 200 '"filters_per_link":2'
post '{"targets":["alb.lab.test","10.0.9.10/32","v6only.lab.test"],"interfaces":["lo"],"blackhole":true}'
expect "names and addresses mix; every record of every name counts" 200 '"10.0.2.10/32"' '"10.0.2.11/32"' '"fd00:9::10/128"' '"filters_per_link":4'
post '{"targets":["dynamodb.lab.test","nothere.lab.test"],"interfaces":["lo"],"delay":{"ms":100}}'
expect "a name that does not resolve is refused (fail closed), naming the target" 422 '"code":"unresolved_target"' '"field":"targets[1]"' "nothere.lab.test"
post '{"targets":["aws:DYNAMODB"],"interfaces":["lo"],"delay":{"ms":100}}'
expect "aws:DYNAMODB takes the region from AWS_REGION" 200 '"52.119.160.0/20"' '"52.119.176.0/21"' '"2406:da14::/32"'
post '{"targets":["aws:S3:us-east-1"],"interfaces":["lo"],"loss":{"percent":5}}'
expect "aws:S3:us-east-1 names its region" 200 '"52.216.0.0/15"'
post '{"targets":["aws:SQS:us-east-1"],"interfaces":["lo"],"loss":{"percent":5}}'
expect "an unknown service is refused" 422 '"code":"unknown_aws_service"' "SQS"
post '{"targets":["aws:S3:mars-1"],"interfaces":["lo"],"loss":{"percent":5}}'
expect "an unknown region is refused" 422 '"code":"unknown_aws_region"' "mars-1"
post '{"targets":["aws:EC2:ap-northeast-1"],"interfaces":["lo"],"loss":{"percent":5}}'
expect "a service with no range in that region is refused, never widened" 422 '"code":"empty_aws_range"'
CODE=$(curl -s -o "$T/body" -w '%{http_code}' localhost:9700/v1/capabilities); BODY=$(cat "$T/body")
expect "capabilities show the ranges file's syncToken and createDate" 200 '"syncToken":"1764288000"' '"createDate":"2026-11-28-00-00-00"' '"default_region":"ap-northeast-1"'
expect "capabilities show the nameservers" 200 '"nameservers":"127.0.0.1"'
kill $npid; wait $npid; rc=$?

# The region from ECS task metadata, when the environment names none (a fake endpoint).
mkdir -p "$T/meta/v4"
echo '{"TaskARN":"arn:aws:ecs:us-east-1:111122223333:task/demo/abc","AvailabilityZone":"us-east-1b"}' >"$T/meta/v4/task"
(cd "$T/meta" && exec python3 -m http.server 18080 --bind 127.0.0.1 >/dev/null 2>&1) & hpid=$!
for i in $(seq 50); do curl -s -o /dev/null 127.0.0.1:18080/v4/task && break; sleep 0.1; done
env -u AWS_REGION -u AWS_DEFAULT_REGION ECS_CONTAINER_METADATA_URI_V4=http://127.0.0.1:18080/v4 "$BIN" \
    --listen 127.0.0.1:9701 --state-dir "$T/state4" --aws-ip-ranges "$ROOT/tests/fixtures/aws-ip-ranges.json" 2>"$T/log4" & mpid=$!
for i in $(seq 50); do curl -s -o /dev/null localhost:9701/healthz && break; sleep 0.1; done
CODE=$(curl -s -o "$T/body" -w '%{http_code}' localhost:9701/v1/capabilities); BODY=$(cat "$T/body")
expect "without AWS_REGION the region comes from ECS task metadata" 200 '"default_region":"us-east-1"' '"region_from":"ECS task metadata"'
CODE=$(curl -s -o "$T/body" -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
       "localhost:9701/v1/faults?dry_run=true" --data-binary '{"targets":["aws:DYNAMODB"],"interfaces":["lo"],"delay":{"ms":1}}'); BODY=$(cat "$T/body")
expect "aws:DYNAMODB then selects us-east-1" 200 '"52.94.0.0/22"'
kill $mpid $hpid $dpid; wait $mpid
n=$((n+1)); if [ $rc = 0 ]; then echo "ok $n - netfaultd stops cleanly"; else failed=$((failed+1)); echo "not ok $n - netfaultd stops cleanly"; fi
echo "1..$n"
[ $failed = 0 ]
INNER
T=$T BIN=$BIN DNSD=$DNSD ROOT=$ROOT exec unshare -m -n bash "$T/inner.sh"
