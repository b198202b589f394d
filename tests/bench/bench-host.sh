#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark (not a test): requests per second of the example host serving a
# small static file and a 1 MiB one, with wrk on loopback, next to nginx serving the same file from
# the same machine in the same run. Needs root, wrk and nginx (Debian packages).
# Then, in the same run, the host's p99 latency with no recycle and during
# recycles (a SIGHUP every second), with wrk --latency.
# Usage: bench-host.sh BUILDDIR [SECONDS] [CONNECTIONS]
set -eu
build=$(realpath "$1") secs=${2:-5} conns=${3:-64}
for t in wrk nginx curl; do command -v $t >/dev/null || { echo "$t is needed"; exit 1; }; done
tmp=$(mktemp -d /tmp/apid-bench-host-XXXXXX)
chmod 755 "$tmp"
hpid= npid=
trap '[ -n "$hpid" ] && kill $hpid 2>/dev/null; [ -n "$npid" ] && kill $npid 2>/dev/null; sleep 0.5; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/www"
head -c 4096 /dev/urandom | base64 -w 100 | head -c 4096 > "$tmp/www/index.html"
head -c 1048576 /dev/urandom > "$tmp/www/big.bin"
chmod 755 "$tmp/www"; chmod 644 "$tmp/www/index.html" "$tmp/www/big.bin"
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ph=$(port) pn=$(port)
cat > "$tmp/host.ini" <<INI
[site bench]
pool = BenchPool
root = $tmp/www
listen = 127.0.0.1:$ph
workers = 2
INI
cat > "$tmp/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx.err;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    server { listen 127.0.0.1:$pn; root $tmp/www; }
}
CONF
APPPOOLID_STATE_DIR=$tmp/state APPPOOL_WORKER=$build/examples/apppool-worker \
        "$build/examples/apppool-host" --config "$tmp/host.ini" 2> "$tmp/host.log" &
hpid=$!
nginx -c "$tmp/nginx.conf" -e "$tmp/nginx.err" &
npid=$!
for i in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$ph/" && curl -sf -o /dev/null "http://127.0.0.1:$pn/" && break; sleep 0.1; done
cmp <(curl -s "http://127.0.0.1:$ph/index.html") <(curl -s "http://127.0.0.1:$pn/index.html")
rps() { wrk -t2 -c"$conns" -d"${secs}s" "$1" | awk '/Requests\/sec/ {print $2}'; }
wrk -t2 -c"$conns" -d1s "http://127.0.0.1:$ph/index.html" >/dev/null   # warm up
wrk -t2 -c"$conns" -d1s "http://127.0.0.1:$pn/index.html" >/dev/null
h=$(rps "http://127.0.0.1:$ph/index.html")
n=$(rps "http://127.0.0.1:$pn/index.html")
echo "wrk -t2 -c$conns -d${secs}s, a 4096-byte file, loopback, 2 workers each"
echo "apppool-host (workers as IIS APPPOOL\\BenchPool, restricted token)  $h req/s"
echo "nginx (2 worker processes, sendfile)                                $n req/s"
/usr/bin/python3 -c "print(f'ratio apppool-host / nginx: {float(\"$h\") / float(\"$n\"):.2f}')"

# Large files: 1 MiB each, fewer connections (the bytes, not the requests,
# are the cost), same run.
cmp <(curl -s "http://127.0.0.1:$ph/big.bin") "$tmp/www/big.bin"
cmp <(curl -s "http://127.0.0.1:$pn/big.bin") "$tmp/www/big.bin"
bconns=$(( conns < 16 ? conns : 16 ))
brps() { wrk -t2 -c"$bconns" -d"${secs}s" "$1" | awk '/Requests\/sec/ {r = $2} /Transfer\/sec/ {t = $2} END {print r, t}'; }
read -r bh bht < <(brps "http://127.0.0.1:$ph/big.bin")
read -r bn bnt < <(brps "http://127.0.0.1:$pn/big.bin")
echo "wrk -t2 -c$bconns -d${secs}s, a 1 MiB file"
echo "apppool-host  $bh req/s ($bht/s)"
echo "nginx         $bn req/s ($bnt/s)"
/usr/bin/python3 -c "print(f'ratio apppool-host / nginx, 1 MiB: {float(\"$bh\") / float(\"$bn\"):.2f}')"

# p99 latency: a quiet phase, then the same load while the pool is recycled
# every second (each recycle starts 2 new workers, waits for them, retires
# the old ones), alternating twice so that drift on a shared machine shows.
p99() { awk '/^ +99%/ {print $2}' "$1"; }
errors() { awk '/Socket errors/ {gsub(",", ""); e = $4 + $6 + $8 + $10} /Non-2xx/ {n = $NF} END {print e + 0, n + 0}' "$1"; }
for round in 1 2; do
        wrk -t2 -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$ph/index.html" > "$tmp/quiet" 2>&1
        n0=$(grep -c "recycled" "$tmp/host.log" || true)
        wrk -t2 -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$ph/index.html" > "$tmp/busy" 2>&1 &
        wpid=$!
        for i in $(seq "$secs"); do sleep 1; kill -HUP "$hpid"; done
        wait "$wpid"
        n1=$(grep -c "recycled" "$tmp/host.log" || true)
        read -r qe qn < <(errors "$tmp/quiet")
        read -r be bn < <(errors "$tmp/busy")
        echo "round $round: p99 without recycles $(p99 "$tmp/quiet") ($(awk '/Requests\/sec/ {print $2}' "$tmp/quiet") req/s," \
                "$qe socket errors, $qn non-2xx); during $((n1 - n0)) recycles $(p99 "$tmp/busy")" \
                "($(awk '/Requests\/sec/ {print $2}' "$tmp/busy") req/s, $be socket errors, $bn non-2xx)"
done
