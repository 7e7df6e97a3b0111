#!/usr/bin/env bash
# Record the capture fixtures in test/fixtures/pcap/ (read by test/unit/packets.test.ts and ladder.test.ts).
# Each capture is a known TCP exchange on loopback, made by a small python3 script, inside a network
# namespace of its own (`unshare --net`, as root), so the host's network is never touched. After recording,
# the flag sequence tcpdump reads back is checked against the shape the fixture is for; a mismatch is
# recorded again (up to 3 times) and then fails, so a fixture never silently shows something else.
#
# Usage (as root, from anywhere): scripts/record-fixture-pcaps.sh [name...]   (default: every fixture)
# Needs: tcpdump, python3, nft (nftables), ip (iproute2), unshare (util-linux).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=test/fixtures/pcap
[ "$(id -u)" -eq 0 ] || { echo "record-fixture-pcaps: run as root (unshare --net and tcpdump need it)" >&2; exit 1; }
for prog in tcpdump python3 nft ip unshare; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "$prog" >/dev/null || { echo "record-fixture-pcaps: $prog is missing" >&2; exit 1; }
done
mkdir -p "$OUT"

# The traffic. Server 127.0.0.1:9000 (::1 for *-v6), client bound to port 40000 (40001 for a second one),
# so the fixtures' addresses are fixed and only ISNs, timestamps and times change between recordings.
TRAFFIC_PY=$(cat <<'PY'
import socket, sys, time
sc = sys.argv[1]
fam = socket.AF_INET6 if sc.endswith('-v6') else socket.AF_INET
host = '::1' if fam == socket.AF_INET6 else '127.0.0.1'
def sock():
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return s
def client(port=40000):
    c = sock(); c.bind((host, port)); c.connect((host, 9000)); return c
def drain(s):
    while s.recv(100): pass
L = sock(); L.bind((host, 9000)); L.listen(8)
if sc == 'handshake':            # tcpdump stops itself after the 3 handshake segments (-c 3)
    c = client(); a, _ = L.accept(); time.sleep(0.3)
elif sc == 'close-four-way':      # the server closes 300 ms after EOF: its delayed ACK of the FIN goes out alone
    c = client(); a, _ = L.accept()
    c.sendall(b'hello\n'); a.recv(100); time.sleep(0.05)
    c.close(); drain(a); time.sleep(0.3); a.close()
elif sc.startswith('close-fin-ack-combined'):
    # the server closes as soon as it reads EOF: the ACK of the client's FIN is delayed (the socket is in
    # pingpong mode after the FIN), so the server's FIN carries it
    c = client(); a, _ = L.accept()
    c.sendall(b'ping\n'); a.recv(100); a.sendall(b'pong\n'); c.recv(100); time.sleep(0.05)
    c.close(); drain(a); a.close()
elif sc == 'rst-unread':          # the server closes with 12 unread bytes in its receive queue: RST, not FIN
    c = client(); a, _ = L.accept()
    c.sendall(b'unread data\n'); time.sleep(0.1); a.close()
elif sc == 'fin-retransmit':      # nft (set up by the shell) drops the client's first FIN; the RTO resends it
    c = client(); a, _ = L.accept()
    c.sendall(b'bye\n'); a.recv(100); time.sleep(0.05)
    c.close(); drain(a); a.close()
elif sc == 'port-reuse':          # same 4-tuple twice: the server's TIME-WAIT accepts the second SYN
    for msg in (b'one\n', b'two\n'):
        c = client(); a, _ = L.accept()
        c.sendall(msg); a.recv(100); time.sleep(0.05)
        a.close(); drain(c); c.close(); time.sleep(0.1)
elif sc == 'two-clients':         # two clients of one listener, interleaved
    c1 = client(40000); a1, _ = L.accept(); c2 = client(40001); a2, _ = L.accept()
    c1.sendall(b'one\n'); a1.recv(100); c2.sendall(b'two\n'); a2.recv(100); time.sleep(0.05)
    c1.close(); drain(a1); a1.close(); c2.close(); drain(a2); a2.close()
else:
    sys.exit('unknown scenario ' + sc)
time.sleep(0.3)
PY
)
export TRAFFIC_PY

# Run inside the new namespace: $1 file, $2 scenario, the rest extra tcpdump arguments.
IN_NS=$(cat <<'SH2'
set -eu
file=$1; sc=$2; shift 2
ip link set lo up
if [ "$sc" = fin-retransmit ]; then
  # drop the first FIN sent to :9000 at the input hook (the capture still shows it); `limit ... burst 1`
  # makes the rule match that one FIN only, so the retransmission 200 ms later goes through
  nft add table inet t
  nft add chain inet t c '{ type filter hook input priority 0 ; }'
  nft add rule inet t c tcp dport 9000 tcp flags fin limit rate 1/hour burst 1 packets drop
fi
err=$(mktemp)
# -Z root: keep writing as root; --immediate-mode: deliver each packet at once, not a buffer at a time
tcpdump -Z root -U --immediate-mode "$@" -w "$file" 2>"$err" & td=$!
until grep -q listening "$err"; do sleep 0.05; done
python3 -c "$TRAFFIC_PY" "$sc"
sleep 0.2
kill "$td" 2>/dev/null || true
wait "$td" || true
[ "$sc" = fin-retransmit ] && nft delete table inet t
rm -f "$err"
SH2
)

flags_of() { tcpdump -nr "$1" 2>/dev/null | sed -n 's/.*Flags \[\([^]]*\)\].*/\1/p' | tr '\n' ' ' | sed 's/ $//'; }

# record NAME SCENARIO "EXPECTED FLAGS" [tcpdump args...]
record() {
  local name=$1 sc=$2 want=$3; shift 3
  local file="$OUT/$name.pcap" got=''
  for attempt in 1 2 3; do
    rm -f "$file"
    unshare --net sh -c "$IN_NS" sh "$file" "$sc" "$@"
    got=$(flags_of "$file")
    if [ "$got" = "$want" ]; then echo "recorded $file ($(stat -c %s "$file") bytes): $got"; return 0; fi
    echo "record-fixture-pcaps: $name attempt $attempt gave [$got], want [$want]; again" >&2
  done
  echo "record-fixture-pcaps: $name: could not record the expected shape" >&2
  exit 1
}

want() { [ "$#" -eq 0 ] || [[ " $* " == *" $1 "* ]]; }
ALL=(handshake close-four-way close-fin-ack-combined rst-unread fin-retransmit port-reuse two-clients
  close-fin-ack-combined-v6 handshake-sll handshake-sll2)
for name in "${@:-${ALL[@]}}"; do
  case "$name" in
    handshake) record handshake handshake 'S S. .' -i lo -c 3 ;;
    close-four-way) record close-four-way close-four-way 'S S. . P. . F. . F. .' -i lo ;;
    close-fin-ack-combined) record close-fin-ack-combined close-fin-ack-combined 'S S. . P. . P. . F. F. .' -i lo ;;
    rst-unread) record rst-unread rst-unread 'S S. . P. . R.' -i lo ;;
    fin-retransmit) record fin-retransmit fin-retransmit 'S S. . P. . F. F. F. .' -i lo ;;
    port-reuse) record port-reuse port-reuse 'S S. . P. . F. F. . S S. . P. . F. F. .' -i lo ;;
    two-clients) record two-clients two-clients 'S S. . S S. . P. . P. . F. F. . F. F. .' -i lo ;;
    # IPv6 over ::1, nanosecond timestamps (pcap magic 0xa1b23c4d)
    close-fin-ack-combined-v6) record close-fin-ack-combined-v6 close-fin-ack-combined-v6 'S S. . P. . P. . F. F. .' -i lo --time-stamp-precision=nano ;;
    # the "any" device: cooked headers (LINUX_SLL = 113, LINUX_SLL2 = 276) instead of Ethernet
    handshake-sll) record handshake-sll handshake 'S S. .' -i any -y LINUX_SLL -c 3 ;;
    handshake-sll2) record handshake-sll2 handshake 'S S. .' -i any -y LINUX_SLL2 -c 3 ;;
    *) echo "record-fixture-pcaps: unknown fixture '$name' (known: ${ALL[*]})" >&2; exit 2 ;;
  esac
done
