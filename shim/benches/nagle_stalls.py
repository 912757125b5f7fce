# Nagle/delayed-ACK stalls in a packet capture of loopback (shim/README.md, "The ~40 ms tail").
#   tcpdump -i lo -s 256 -w run.pcap 'tcp port P'   # P: a cargo-lambda port the bench prints
#   python3 shim/benches/nagle_stalls.py run.pcap P   # needs tshark
# Per TCP stream on port P: two data segments of one sender >= 20 ms apart. Flagged
# NAGLE-WAITS-ON-DELAYED-ACK when the peer sent only ACKs in between and the second segment left
# < 1 ms after the peer's ACK (the sender's Nagle waited for the peer's delayed ACK); "other" are
# ordinary pauses (a client between requests, SSE events 50 ms apart, the emulator holding /next).
import subprocess, sys, collections
pcap, port = sys.argv[1], sys.argv[2]
out = subprocess.run(["tshark","-r",pcap,"-T","fields","-e","frame.time_epoch","-e","tcp.stream",
  "-e","tcp.srcport","-e","tcp.dstport","-e","tcp.len","-e","tcp.seq","-e","tcp.ack","-e","tcp.flags.str",
  "-e","http.request.uri","-o","tcp.relative_sequence_numbers:TRUE"],capture_output=True,text=True).stdout
streams=collections.defaultdict(list)
for l in out.splitlines():
    f=l.split("\t")
    streams[f[1]].append((float(f[0]),int(f[2]),int(f[3]),int(f[4] or 0),f[5],f[6],f[7],f[8] if len(f)>8 else ""))
kinds=collections.Counter(); shown=collections.Counter()
for sid,pk in streams.items():
    if pk[0][1]!=int(port) and pk[0][2]!=int(port): continue
    # who is the client: the side whose dst is the server port
    uris=[p[7] for p in pk if p[7]]
    kind = "runtime(/.rt)" if any("/.rt/" in u for u in uris) else "invoke"
    if any("/extension/" in u for u in uris): kind="extension"
    last_data={}  # sender port -> (time, len)
    for i,p in enumerate(pk):
        t,src,dst,ln,seq,ack,flags,uri=p
        if ln==0: continue
        if src in last_data:
            t0,l0,i0=last_data[src]
            gap=(t-t0)*1000
            if gap>=20:
                # the peer's packets between
                between=[(round((q[0]-t0)*1000,3),"ACK" if q[3]==0 else f"data{q[3]}") for q in pk[i0+1:i] if q[1]==dst]
                only_acks = all(b[1]=="ACK" for b in between)
                ack_released = bool(between) and between[-1][1]=="ACK" and gap-between[-1][0] < 1.0
                sig = "NAGLE-WAITS-ON-DELAYED-ACK" if (only_acks and ack_released) else "other"
                key=(kind,"emulator->function" if src==int(port) else "function->emulator",sig)
                kinds[key]+=1
                if shown[key]<3:
                    shown[key]+=1
                    print(f"stream {sid} {kind}: {src}->{dst} data {l0}B at {t0:.6f}, next data {ln}B after {gap:.3f} ms; peer between: {between}")
        last_data[src]=(t,ln,i)
print("stalls >=20 ms between two data segments of one sender, by hop:",dict(kinds))
