# RSS breakdown of the release bootstrap (shim/README.md, "Memory"): one stand-in upstream, one
# cargo-lambda + bootstrap (SHIM_CHILD_CMD=none) per variant, N (300) GET invocations each, then
# VmRSS/RssAnon/RssFile, threads and the largest smaps entries of each bootstrap.
#   python3 shim/benches/rss_breakdown.py /ABS/target/release/bootstrap [VAR=value ...] [bin=/ABS/other/bootstrap ...]
# Variants: the first binary as is and with SHIM_RELEASE_INIT_MEMORY=false (ONLY=default: as is
# only; ONLY=none: neither), each VAR=value (the first binary with it), each bin=PATH (that binary
# as is). Several processes of one binary share its pages, which MADV_PAGEOUT then cannot reclaim
# (see shim/README.md, "Memory"): for a figure per binary, run one process of each.
# MOTO=1: a moto server holds librechat.yaml (S3) and 3 SSM secrets, and every shim fetches them
#   at cold start (the production path: since the init step, through `shim-init`, which
#   SHIM_INIT_BIN names or which is found beside each bootstrap).
# BY_CRATE=/ABS/unstripped-twin: which code of the binary is resident after the run, by crate:
#   /proc/PID/pagemap's present bit for every page of its executable mapping, each page named by
#   the symbol (`nm -C` of the twin: the same build with symbols, e.g. the `lambda` profile with
#   CARGO_PROFILE_LAMBDA_STRIP=none) that covers its start, grouped by the symbol's crate.
# LWA=/ABS/lwa-runner: aws-lambda-web-adapter as one more function in the same run (the bench's
#   build: target/lwa-runner/release/lwa-runner), same upstream, same requests.
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
    only=os.environ.get("ONLY")
    variants=[] if only=="none" else [("release on (default)",BIN,{})]
    if only not in ("default","none"):
        variants.append(("SHIM_RELEASE_INIT_MEMORY=false",BIN,{"SHIM_RELEASE_INIT_MEMORY":"false"}))
    for extra in sys.argv[2:]:
        k,v=extra.split("=",1)
        variants.append((v,v,{}) if k=="bin" else (extra,BIN,{k:v}))
    aws={}
    if os.environ.get("MOTO")=="1":
        mp=free()
        spawn([f"{WT}/.tools/venv/bin/moto_server","-H","127.0.0.1","-p",str(mp)],log="/tmp/rss-breakdown-moto.log")
        assert wait(mp), "moto"
        ep=f"http://127.0.0.1:{mp}"
        # Seeded with boto3 from the venv (moto's own dependency).
        names=["CREDS_KEY","JWT_SECRET","MONGO_URI"]
        seed=("import boto3,sys\n"
              "kw=dict(endpoint_url=sys.argv[1],region_name='eu-west-1',aws_access_key_id='testing',aws_secret_access_key='testing')\n"
              "s3=boto3.client('s3',**kw); s3.create_bucket(Bucket='rss-config',CreateBucketConfiguration={'LocationConstraint':'eu-west-1'})\n"
              "s3.put_object(Bucket='rss-config',Key='librechat.yaml',Body=b'version: 1.2.1\\ncache: true\\ninterface:\\n  customWelcome: https://genai.example/\\n')\n"
              "ssm=boto3.client('ssm',**kw)\n"
              "for i,n in enumerate(sys.argv[2:]): ssm.put_parameter(Name='/rss/'+n,Value='value-%d-'%i+'x'*40,Type='SecureString')\n")
        subprocess.run([f"{WT}/.tools/venv/bin/python","-c",seed,ep,*names],check=True)
        secrets=[f"{n}=/rss/{n}" for n in names]
        aws={"AWS_ENDPOINT_URL":ep,"CONFIG_S3_BUCKET":"rss-config","CONFIG_S3_KEY":"librechat.yaml","SHIM_SSM_SECRETS":",".join(secrets)}
    shims=[]
    lwa=os.environ.get("LWA")
    if lwa: variants.append(("aws-lambda-web-adapter",lwa,{}))
    for name,binary,extra in variants:
        inv=free()
        spawn([f"{WT}/.tools/venv/bin/cargo-lambda","lambda","watch","--only-lambda-apis","--invoke-address","127.0.0.1","--invoke-port",str(inv),"--ignore-changes"],log=f"/tmp/rss-breakdown-cl-{inv}.log")
        assert wait(inv), "cargo-lambda"
        env={"PATH":os.environ["PATH"],"HOME":"/tmp","AWS_LAMBDA_RUNTIME_API":f"http://127.0.0.1:{inv}/.rt",
             "AWS_LAMBDA_FUNCTION_NAME":"_","AWS_LAMBDA_FUNCTION_VERSION":"1","AWS_LAMBDA_FUNCTION_MEMORY_SIZE":"1024",
             "AWS_REGION":"eu-west-1","AWS_ACCESS_KEY_ID":"testing","AWS_SECRET_ACCESS_KEY":"testing","AWS_EC2_METADATA_DISABLED":"true",
             "RUST_LOG":"info"}
        if binary==lwa:
            # As the overhead bench runs it (shim/benches/overhead.rs, `lwa`).
            env.update({"AWS_LWA_PORT":str(up),"AWS_LWA_READINESS_CHECK_PATH":"/health","AWS_LWA_INVOKE_MODE":"response_stream","AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH":"true"})
        else:
            env.update({"SHIM_CHILD_CMD":"none","SHIM_UPSTREAM_PORT":str(up),"CONFIG_PATH":f"/tmp/rss-breakdown-{inv}.yaml"})
            env.update(aws)
            if os.environ.get("SHIM_INIT_BIN"): env["SHIM_INIT_BIN"]=os.environ["SHIM_INIT_BIN"]
        env.update(extra)
        p=spawn([binary],env=env,log=f"/tmp/rss-breakdown-boot-{inv}.log")
        shims.append((name,inv,p))
    ev=json.dumps({"httpMethod":"GET","path":"/api/__standin/echo","headers":{},"multiValueHeaders":{},"queryStringParameters":None,"multiValueQueryStringParameters":None,"body":None,"isBase64Encoded":False,"requestContext":{"requestId":"x","stage":"$default","httpMethod":"GET","path":"/api/__standin/echo","identity":{"sourceIp":"127.0.0.1"},"resourcePath":"/{proxy+}","accountId":"123456789012","apiId":"bench"},"resource":"/{proxy+}","pathParameters":{"proxy":"api/__standin/echo"},"stageVariables":None}).encode()
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
    def by_crate(pid, exe, twin):
        import bisect, re
        syms=[]
        for l in subprocess.run(["nm","-C","--defined-only","-n",twin],capture_output=True,text=True).stdout.splitlines():
            f=l.split(" ",2)
            if len(f)==3 and f[1] in "tTwW": syms.append((int(f[0],16),f[2]))
        addrs=[a for a,_ in syms]
        def crate(name):
            name=name.lstrip("<&*(").replace("dyn ","").replace("impl ","")
            m=re.match(r"([A-Za-z_][A-Za-z0-9_]*)::",name)
            return m.group(1) if m else "(other)"
        # ELF virtual address of a file offset in the executable segment.
        seg=[(int(f[1],16),int(f[2],16),int(f[5],16)) for f in (l.split() for l in subprocess.run(["readelf","-lW",twin],capture_output=True,text=True).stdout.splitlines()) if len(f)>6 and f[0]=="LOAD" and "E" in f[6:8]]
        off0,vaddr0,size0=seg[0]
        counts=collections.Counter()
        with open(f"/proc/{pid}/pagemap","rb") as pm:
            for l in open(f"/proc/{pid}/maps"):
                f=l.split()
                if len(f)<6 or f[1]!="r-xp" or os.path.realpath(f[5])!=os.path.realpath(exe): continue
                a,b=(int(x,16) for x in f[0].split("-")); fo=int(f[2],16)
                for va in range(a,b,4096):
                    pm.seek(va//4096*8); e=int.from_bytes(pm.read(8),"little")
                    if not e>>63&1: continue
                    ev=fo+(va-a)+(vaddr0-off0)
                    i=bisect.bisect_right(addrs,ev)-1
                    counts[crate(syms[i][1]) if i>=0 else "(before symbols)"]+=4
        return counts
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
        twin=os.environ.get("BY_CRATE")
        if twin and name!="aws-lambda-web-adapter":
            c=by_crate(p.pid, BIN if name.startswith("release") else name, twin)
            print(f"   resident code by crate ({sum(c.values())} kB):", ", ".join(f"{k} {v}" for k,v in c.most_common(25)))
    for name,inv,p in shims:
        for l in open(f"/tmp/rss-breakdown-boot-{inv}.log"):
            if any(m in l for m in ("init memory released","init phase done","init step done","secrets resolved","config written","failed")): print("   ",name, l.strip()[:300])
finally:
    for p in procs:
        try: os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError: pass
    for p in procs:
        try: p.wait(5)
        except Exception:
            try: os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError: pass
