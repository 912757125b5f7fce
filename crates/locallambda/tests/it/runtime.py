#!/usr/bin/env python3
"""A small Lambda runtime for the local Lambda's tests (stdlib only).

At init it may start a "ticker" child that appends a line to TICK_FILE every 20 ms (a process the
freezer must stop too) and may sleep INIT_SLEEP_MS the first time it starts (marker INIT_MARKER).
Each event is a JSON object; keys: sleep_ms, exit (exit code), stream (list of strings, streamed as
an HTTP integration response), gate (a file to wait for before the last chunk), status, error
(post to /error), tmp (answer TMPDIR), big (bytes of buffered response), no_response.
"""
import http.client, json, os, subprocess, sys, time

api = os.environ["AWS_LAMBDA_RUNTIME_API"]
host, port = api.split(":")
print("runtime starting, pid", os.getpid(), flush=True)

marker = os.environ.get("INIT_MARKER")
if marker and not os.path.exists(marker):
    open(marker, "w").close()
    time.sleep(int(os.environ.get("INIT_SLEEP_MS", "0")) / 1000)

tick = os.environ.get("TICK_FILE")
if tick:
    subprocess.Popen([sys.executable, "-c",
        "import time,sys\nwhile True:\n open(sys.argv[1],'a').write('t\\n')\n time.sleep(0.02)", tick])


def call(method, path, body=None, headers=None):
    c = http.client.HTTPConnection(host, int(port))
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    return r, data


while True:
    r, data = call("GET", "/2018-06-01/runtime/invocation/next")
    rid = r.getheader("lambda-runtime-aws-request-id")
    ev = json.loads(data or b"{}")
    base = f"/2018-06-01/runtime/invocation/{rid}"
    time.sleep(ev.get("sleep_ms", 0) / 1000)
    if "exit" in ev:
        sys.exit(ev["exit"])
    if ev.get("no_response"):
        continue
    if "error" in ev:
        call("POST", base + "/error", json.dumps({"errorType": "Test.Error", "errorMessage": ev["error"]}),
             {"Lambda-Runtime-Function-Error-Type": "Test.Error"})
        continue
    if "stream" in ev:
        c = http.client.HTTPConnection(host, int(port))
        c.putrequest("POST", base + "/response")
        c.putheader("Lambda-Runtime-Function-Response-Mode", "streaming")
        c.putheader("Content-Type", "application/vnd.awslambda.http-integration-response")
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()
        def chunk(b):
            c.send(b"%x\r\n" % len(b) + b + b"\r\n")
        prelude = json.dumps({"statusCode": ev.get("status", 200),
                              "headers": {"content-type": "text/plain", "x-env-pid": str(os.getpid())},
                              "cookies": ["a=1; Path=/"]}).encode()
        chunk(prelude)
        chunk(b"\0" * 8)
        parts = ev["stream"]
        for i, p in enumerate(parts):
            if i == len(parts) - 1 and ev.get("gate"):
                while not os.path.exists(ev["gate"]):
                    time.sleep(0.01)
            chunk(p.encode())
        c.send(b"0\r\n\r\n")
        c.getresponse().read()
        continue
    if ev.get("tmp"):
        out = json.dumps({"tmp": os.environ.get("TMPDIR"), "pid": os.getpid()})
    elif ev.get("big"):
        out = "x" * ev["big"]
    else:
        out = json.dumps({"echo": ev, "pid": os.getpid()})
    call("POST", base + "/response", out, {"Content-Type": "application/json"})
