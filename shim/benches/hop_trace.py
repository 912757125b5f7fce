#!/usr/bin/env python3
"""Where a slow request through the shim spent its time, from a packet capture on loopback.

Capture while the overhead bench runs (tcpdump from Debian's packages):

    tcpdump -i lo -s 256 -w /tmp/lo.pcap tcp &
    BENCH_LWA=0 BENCH_NOQUICKACK=0 cargo bench -p shim --bench overhead   # prints "ports: upstream U; shim's cargo-lambda ... C"
    python3 shim/benches/hop_trace.py /tmp/lo.pcap C U [FIRST-LINE]

Every `POST .../invocations` the bench client sends to cargo-lambda's port C is one request; within
it (only those whose request to the upstream starts with FIRST-LINE, by default
`GET /api/__standin/echo`: the bench's latency phase, one request at a time), the capture's own timestamps (one clock, the kernel's) give each hop:

    invoke   client's POST -> cargo-lambda answers the shim's /next
    to_up    /next answered -> the shim's request reaches the upstream (port U)
    upstream the upstream's request -> its first response byte
    to_rt    the upstream's first byte -> the shim's response POST starts (the prelude)
    posting  the prelude -> the shim's last response byte to cargo-lambda
    out      the shim's last byte -> cargo-lambda's last byte to the client

It prints the percentiles of every hop over all requests, and the hops of the slowest ones: which
hop a tail sample's time went to. With `--sched=TIMEHIST OFFSET` (the output of
`perf sched timehist` from `perf sched record -k monotonic` run alongside, and the seconds to add to
CLOCK_MONOTONIC to get the capture's wall clock, `python3 -c 'import time;
print(time.time()-time.clock_gettime(time.CLOCK_MONOTONIC))'`), each slow request's largest hop is
shown with every thread that waited 0.5 ms or more for a CPU during it. Standard library only (a pcap of Ethernet/IPv4/TCP, as tcpdump
writes for `lo`).
"""

import re
import struct
import sys


def packets(path):
    """(ts, src_port, dst_port, payload) of every TCP packet with a payload."""
    with open(path, "rb") as f:
        head = f.read(24)
        magic = struct.unpack("<I", head[:4])[0]
        if magic == 0xA1B2C3D4:
            endian, scale = "<", 1e-6
        elif magic == 0xA1B23C4D:
            endian, scale = "<", 1e-9
        else:
            sys.exit(f"{path}: not a little-endian pcap (magic {magic:#x})")
        linktype = struct.unpack(endian + "I", head[20:24])[0]
        if linktype != 1:
            sys.exit(f"{path}: link type {linktype}, expected Ethernet (1)")
        while True:
            ph = f.read(16)
            if len(ph) < 16:
                return
            sec, frac, incl, _orig = struct.unpack(endian + "IIII", ph)
            data = f.read(incl)
            if len(data) < 34 or data[12:14] != b"\x08\x00":
                continue
            ip = data[14:]
            ihl = (ip[0] & 0x0F) * 4
            total = struct.unpack("!H", ip[2:4])[0]
            if ip[9] != 6:
                continue
            tcp = ip[ihl:]
            sport, dport = struct.unpack("!HH", tcp[:4])
            doff = (tcp[12] >> 4) * 4
            plen = total - ihl - doff
            if plen <= 0:
                continue
            yield sec + frac * scale, sport, dport, tcp[doff : doff + min(plen, len(tcp) - doff)]


def pct(v, p):
    s = sorted(v)
    return s[min(len(s) - 1, int(len(s) * p / 100))] if s else float("nan")


HOPS = [
    ("invoke", "start", "next"),
    ("to_up", "next", "up_req"),
    ("upstream", "up_req", "up_first"),
    ("to_rt", "up_first", "post"),
    ("posting", "post", "post_last"),
    ("out", "post_last", "end"),
]


def requests(path, cl, up, first_line):
    """The requests through the shim, each a dict of packet times (s) and hop lengths (ms)."""
    pk = list(packets(path))
    # The connections' roles, from the first bytes each one carries.
    role = {}
    for ts, sp, dp, pay in pk:
        if dp == cl and (sp, dp) not in role:
            if pay.startswith(b"POST /2015-03-31/functions/"):
                role[(sp, dp)] = "client"
            elif pay.startswith(b"GET /.rt/2018-06-01/runtime/invocation/next") or pay.startswith(
                b"POST /.rt/2018-06-01/runtime/invocation/"
            ):
                role[(sp, dp)] = "runtime"
    reqs = []
    cur = None
    for ts, sp, dp, pay in pk:
        if role.get((sp, dp)) == "client" and pay.startswith(b"POST /2015-03-31/functions/"):
            cur = {"start": ts}
            reqs.append(cur)
        if cur is None:
            continue
        if sp == cl and role.get((dp, sp)) == "runtime" and "next" not in cur:
            cur["next"] = ts  # cargo-lambda answers /next with the event
        elif dp == up and "next" in cur and "up_req" not in cur:
            cur["up_req"] = ts
            cur["line"] = pay.split(b"\r\n", 1)[0]
        elif sp == up and "up_req" in cur and "up_first" not in cur:
            cur["up_first"] = ts
        elif role.get((sp, dp)) == "runtime" and "up_first" in cur:
            if pay.startswith(b"POST /.rt/2018-06-01/runtime/invocation/") and "post" not in cur:
                cur["post"] = ts
            if "post" in cur:
                cur["post_last"] = ts
        elif sp == cl and role.get((dp, sp)) == "client":
            cur["end"] = ts
    done = [
        r
        for r in reqs
        if all(k in r for k in ("start", "next", "up_req", "up_first", "post", "post_last", "end"))
        and r["line"].startswith(first_line)
    ]
    for r in done:
        r["total"] = (r["end"] - r["start"]) * 1000
        for name, a, b in HOPS:
            r[name] = (r[b] - r[a]) * 1000
    return done, len(reqs)


def sched_waits(timehist, offset):
    """(woken, ran, task) of every run in `perf sched timehist` output whose scheduling delay
    (woken -> on a CPU) was 0.5 ms or more, in the capture's clock (CLOCK_MONOTONIC + offset)."""
    out, process = [], {}
    with open(timehist) as f:
        for line in f:
            m = re.match(r"\s*([\d.]+)\s+\[(\d+)\]\s+(.*?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$", line)
            if not m:
                continue
            end, task, sch, run = float(m[1]) + offset, m[3], float(m[5]), float(m[6])
            # `name[tid/pid]`, or `name[pid]` for a main thread (whose name is the process's).
            t = re.match(r"(.*)\[(\d+)(?:/(\d+))?\]$", task)
            if t and t[3] is None:
                process[t[2]] = t[1]
            if sch >= 0.5:
                ran = end - run / 1000
                out.append((ran - sch / 1000, ran, task))

    def named(task):
        t = re.match(r"(.*)\[(\d+)/(\d+)\]$", task)
        return f"{process.get(t[3], '?')}[{t[3]}] thread {t[1]}" if t else task

    return [(w, r, named(task)) for w, r, task in out]


def main():
    args = sys.argv[1:]
    sched = None
    if len(args) >= 2 and args[-2].startswith("--sched="):
        sched = sched_waits(args[-2].split("=", 1)[1], float(args[-1]))
        args = args[:-2]
    if len(args) not in (3, 4):
        sys.exit(__doc__)
    path, cl, up = args[0], int(args[1]), int(args[2])
    first_line = (args[3] if len(args) == 4 else "GET /api/__standin/echo").encode()
    done, posts = requests(path, cl, up, first_line)
    if not done:
        sys.exit(f"no complete {first_line.decode()} through port {cl} to upstream {up} ({posts} POSTs)")
    print(f"{len(done)} requests through the shim with {first_line.decode()!r} (of {posts} POSTs to port {cl}); ms:")
    print(f"{'hop':<9} {'p50':>7} {'p90':>7} {'p99':>7} {'max':>7}")
    for name in [h[0] for h in HOPS] + ["total"]:
        v = [r[name] for r in done]
        print(f"{name:<9} {pct(v, 50):>7.3f} {pct(v, 90):>7.3f} {pct(v, 99):>7.3f} {max(v):>7.3f}")
    slow = sorted(done, key=lambda r: r["total"], reverse=True)[: max(10, len(done) // 50)]
    print(f"\nthe {len(slow)} slowest (ms): total = " + " + ".join(h[0] for h in HOPS))
    blame = {}
    for r in slow:
        worst = max(HOPS, key=lambda h: r[h[0]])
        blame[worst[0]] = blame.get(worst[0], 0) + 1
        print(f"{r['total']:7.3f} = " + " + ".join(f"{r[h[0]]:.3f}" for h in HOPS) + f"   ({worst[0]})")
        if sched is not None:
            a, b = r[worst[1]], r[worst[2]]
            waits = [w for w in sched if w[0] < b and w[1] > a]
            for woken, ran, task in waits:
                print(f"          {task} waited {1000 * (ran - woken):.3f} ms for a CPU, from {1000 * (woken - a):+.3f} ms into {worst[0]}")
            if not waits:
                print("          no thread waited 0.5 ms or more for a CPU during it")
    print("largest hop of the slowest: " + ", ".join(f"{k} {v}" for k, v in sorted(blame.items(), key=lambda kv: -kv[1])))


if __name__ == "__main__":
    main()
