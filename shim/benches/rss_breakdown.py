# RSS breakdown of the release bootstrap (shim/README.md, "Memory"): one stand-in upstream, one
# cargo-lambda + bootstrap (SHIM_CHILD_CMD=none) per variant, N (300) GET invocations each, then
# VmRSS/RssAnon/RssFile, threads and the largest smaps entries of each bootstrap.
#   python3 shim/benches/rss_breakdown.py target/release/bootstrap [VAR=value ...]
import os, sys, json, socket, subprocess, time, signal, urllib.request, collections
WT=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))); BIN=sys.argv[1]; N=int(os.environ.get("N","300"))
def free():
    s=socket.socket(); s.bind(("127.0.0.1",0)); p=s.getsockname()[1]; s.close(); return p
def wait(port,t=60):
    end=time.time()+t
    while time.time()<end:
        try: socket.create_connection(("127.0.0.1",port),0.2).close(); return True
        except OSError: time.sleep(0.1)
    return False
procs=[]
def spawn(cmd,env=None,log=None):
    p=subprocess.Popen(cmd,env=env,stdout=open(log,"w") if log else subprocess.DEVNULL,stderr=subprocess.STDOUT,start_new_session=True,cwd=WT+"/shim")
    procs.append(p); return p
try:
    up=free()
    spawn(["node",f"{WT}/tools/librechat-standin/server.mjs"],env=dict(os.environ,PORT=str(up),HOST="127.0.0.1"),log="/tmp/rss-breakdown-standin.log")
    assert wait(up), "standin"
    variants=[("release on (default)",{}),("SHIM_RELEASE_INIT_MEMORY=false",{"SHIM_RELEASE_INIT_MEMORY":"false"})]
    for extra in sys.argv[2:]:
        k,v=extra.split("=",1); variants.append((extra,{k:v}))
    shims=[]
    for name,extra in variants:
        inv=free()
        spawn([f"{WT}/.tools/venv/bin/cargo-lambda","lambda","watch","--only-lambda-apis","--invoke-address","127.0.0.1","--invoke-port",str(inv),"--ignore-changes"],log=f"/tmp/rss-breakdown-cl-{inv}.log")
        assert wait(inv), "cargo-lambda"
        env={"PATH":os.environ["PATH"],"HOME":"/tmp","AWS_LAMBDA_RUNTIME_API":f"http://127.0.0.1:{inv}/.rt",
             "AWS_LAMBDA_FUNCTION_NAME":"_","AWS_LAMBDA_FUNCTION_VERSION":"1","AWS_LAMBDA_FUNCTION_MEMORY_SIZE":"1024",
             "AWS_REGION":"eu-west-1","AWS_ACCESS_KEY_ID":"testing","AWS_SECRET_ACCESS_KEY":"testing","AWS_EC2_METADATA_DISABLED":"true",
             "RUST_LOG":"info","SHIM_CHILD_CMD":"none","SHIM_UPSTREAM_PORT":str(up)}
        env.update(extra)
        p=spawn([BIN],env=env,log=f"/tmp/rss-breakdown-boot-{inv}.log")
        shims.append((name,inv,p))
    ev=json.dumps({"httpMethod":"GET","path":"/api/__standin/echo","headers":{},"multiValueHeaders":{},"queryStringParameters":None,"multiValueQueryStringParameters":None,"body":None,"isBase64Encoded":False,"requestContext":{"requestId":"x","stage":"$default","httpMethod":"GET","path":"/api/__standin/echo","identity":{"sourceIp":"127.0.0.1"}},"resource":"/{proxy+}","pathParameters":None,"stageVariables":None}).encode()
    def invoke(inv):
        r=urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{inv}/2015-03-31/functions/_/invocations",data=ev,method="POST"),timeout=30)
        return r.status, r.read()
    for name,inv,p in shims:
        st,b=invoke(inv); assert st==200,(name,b[:200])
    for i in range(N):
        for name,inv,p in shims: invoke(inv)
    def status(pid):
        d={}
        for l in open(f"/proc/{pid}/status"):
            k,_,v=l.partition(":"); d[k]=v.strip()
        return d
    for name,inv,p in shims:
        d=status(p.pid)
        print(f"{name:34} VmRSS {d['VmRSS']:>10} anon {d['RssAnon']:>9} file {d['RssFile']:>9} threads {d['Threads']}")
        # top mappings by Rss
        cur=None; rows=collections.Counter()
        for l in open(f"/proc/{p.pid}/smaps"):
            f=l.split()
            if "-" in f[0] and len(f)>=5 and not f[0].endswith(":"):
                path=f[5] if len(f)>5 else "[anon]"
                cur=(path if not path.startswith("/") else os.path.basename(path))+" "+f[1]
            elif f[0]=="Rss:": rows[cur]+=int(f[1])
        print("   top:", ", ".join(f"{k} {v} kB" for k,v in rows.most_common(8)))
    for name,inv,p in shims:
        for l in open(f"/tmp/rss-breakdown-boot-{inv}.log"):
            if "init memory released" in l or "init phase done" in l: print("   ",name, l.strip()[:300])
finally:
    for p in procs:
        try: os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError: pass
    for p in procs:
        try: p.wait(5)
        except Exception:
            try: os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError: pass
