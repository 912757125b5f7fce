"""hop_trace.py on a capture written here: hops are the differences the packets' own times give,
requests of another first line are left out, and perf sched waits are named and placed."""

import struct

import hop_trace

CL, UP, CLIENT, RT, SHIM_UP = 9001, 3080, 50001, 50002, 50003


def packet(ts, sport, dport, payload):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 0, 0, 5 << 4, 0x18, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0, 64, 6, 0,
                     b"\x7f\0\0\x01", b"\x7f\0\0\x01")
    frame = b"\0" * 12 + b"\x08\x00" + ip + tcp + payload
    sec = int(ts)
    return struct.pack("<IIII", sec, round((ts - sec) * 1e6), len(frame), len(frame)) + frame


def one_request(t, line):
    """One request through the shim, starting at t s; the hops are 1, 2, 3, 4, 5, 6 ms long."""
    ms = 1e-3
    return [
        (t, CLIENT, CL, b"POST /2015-03-31/functions/f/invocations HTTP/1.1\r\n"),
        (t + 1 * ms, CL, RT, b"HTTP/1.1 200 OK\r\n(the event)"),
        (t + 3 * ms, SHIM_UP, UP, line + b" HTTP/1.1\r\n"),
        (t + 6 * ms, UP, SHIM_UP, b"HTTP/1.1 200 OK\r\n"),
        (t + 10 * ms, RT, CL, b"POST /.rt/2018-06-01/runtime/invocation/1/response HTTP/1.1\r\n"),
        (t + 12 * ms, RT, CL, b"(body)"),
        (t + 15 * ms, RT, CL, b"0\r\n\r\n"),
        (t + 21 * ms, CL, CLIENT, b"HTTP/1.1 200 OK\r\n"),
    ]


def write_capture(path, pkts):
    head = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    with open(path, "wb") as f:
        f.write(head)
        for p in pkts:
            f.write(packet(*p))


def test_hops_of_each_request(tmp_path):
    cap = tmp_path / "lo.pcap"
    # The runtime connection announces itself with /next first, as the shim's does.
    pkts = [(99.0, RT, CL, b"GET /.rt/2018-06-01/runtime/invocation/next HTTP/1.1\r\n")]
    pkts += one_request(100.0, b"GET /api/__standin/echo")
    pkts += one_request(101.0, b"POST /api/__standin/sse")
    write_capture(cap, pkts)
    done, posts = hop_trace.requests(str(cap), CL, UP, b"GET /api/__standin/echo")
    assert posts == 2
    assert len(done) == 1, "the SSE request is not one of the latency phase's"
    r = done[0]
    got = {name: round(r[name], 3) for name, _, _ in hop_trace.HOPS}
    assert got == {"invoke": 1.0, "to_up": 2.0, "upstream": 3.0, "to_rt": 4.0, "posting": 5.0, "out": 6.0}
    assert round(r["total"], 3) == 21.0


def test_sched_waits_are_named_and_placed(tmp_path):
    th = tmp_path / "timehist.txt"
    th.write_text(
        "           time    cpu  task name                       wait time  sch delay   run time\n"
        "--------------- ------  ------------------------------  ---------  ---------  ---------\n"
        "      10.000000 [0000]  node[200]                           0.000      0.010      1.000\n"
        "      10.010000 [0001]  tokio-runtime-w[201/200]            0.000      3.000      2.000\n"
        "      10.020000 [0000]  bootstrap[300]                      0.000      0.400      1.000\n"
    )
    waits = hop_trace.sched_waits(str(th), 90.0)
    assert len(waits) == 1, "only waits of 0.5 ms or more"
    woken, ran, task = waits[0]
    assert task == "node[200] thread tokio-runtime-w"
    assert round(ran, 6) == 100.008  # 10.010 + 90 - the 2 ms it ran
    assert round((ran - woken) * 1000, 3) == 3.0
