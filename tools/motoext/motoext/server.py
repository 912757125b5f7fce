"""moto's server with the project's extensions: `python -m motoext.server [options]`.

The same app as `moto_server` (moto.server.main: DomainDispatcherApplication over
create_backend_app, threaded, MotoRequestHandler), with three differences:
- motoext.install() runs first (all extensions, or all but `--disable NAME,...`);
- MOTO_IAM_LOAD_MANAGED_POLICIES defaults to true (AWS-managed policies such as
  AWSLambdaVPCAccessExecutionRole exist, as in an account; `--no-managed-policies` turns it off);
- `--port 0` binds a free port; the bound port is written to `--port-file` (atomically) and
  printed as `motoext: listening on http://HOST:PORT`, so callers need not race for a port.
On Linux the server asks for SIGTERM when its parent dies (PR_SET_PDEATHSIG), so a harness that
is killed does not leave it behind. It binds 127.0.0.1 unless told otherwise.
"""

import argparse
import ctypes
import os
import signal
import sys


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent is already gone
            sys.exit(0)
    except OSError:
        pass  # not Linux: the caller's cleanup still applies


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m motoext.server", description=__doc__.split("\n\n")[0])
    p.add_argument("-H", "--host", default="127.0.0.1")
    p.add_argument("-p", "--port", type=int, default=0, help="0 = a free port")
    p.add_argument("--port-file", help="write the bound port here")
    p.add_argument("--disable", default="", help="comma-separated extension names not to install")
    p.add_argument("--no-managed-policies", action="store_true")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not args.no_managed_policies:
        os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    _die_with_parent()

    import motoext
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    disabled = {d.strip() for d in args.disable.split(",") if d.strip()}
    unknown = disabled - set(motoext.EXTENSIONS)
    if unknown:
        print(f"motoext: unknown extension(s) {sorted(unknown)}; known: {sorted(motoext.EXTENSIONS)}", file=sys.stderr)
        return 2
    installed = motoext.install(only=[n for n in motoext.EXTENSIONS if n not in disabled])

    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True
    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    port = server.socket.getsockname()[1]
    os.environ["MOTO_PORT"] = str(port)  # moto builds some URLs (e.g. presigned, SQS) from it

    def stop(_signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.port_file:
        tmp = f"{args.port_file}.tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"motoext: listening on http://{args.host}:{port} (extensions: {', '.join(installed) or 'none'}; "
          f"managed IAM policies: {os.environ.get('MOTO_IAM_LOAD_MANAGED_POLICIES', 'false')})", flush=True)
    try:
        server.serve_forever()
    except SystemExit:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
