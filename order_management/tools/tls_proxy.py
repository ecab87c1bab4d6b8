"""A local TLS reverse proxy (nginx) in front of Odoo.

``./om run`` with ``OM_TLS=1`` calls this file as a script; the tests import it
and start the same configuration in front of their own HTTP server. It uses the
standard library only, so that it runs without Odoo.

The proxy serves HTTPS on one port and redirects plain HTTP on another to it,
sends HSTS, marks every cookie it passes on (Odoo's ``session_id`` among them)
``Secure``, gives Odoo the ``X-Forwarded-*`` headers its ``proxy_mode`` reads
and routes ``/websocket`` with the upgrade headers. Its pid file, temporary
files and logs stay in the folder it is given.

usage::

    tls_proxy.py start --dir DIR --https-port N --http-port N --odoo-port N
                       [--websocket-port N] [--cert FILE --key FILE]
    tls_proxy.py stop --dir DIR
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

# A year: browsers keep to HTTPS that long after each visit.
HSTS_MAX_AGE = 31536000

# How long a stopping nginx may take to exit.
STOP_TIMEOUT = 10

# Self-signed certificates are made for this long, and made again when they
# end within a day.
CERTIFICATE_DAYS = 825
RENEW_BEFORE_SECONDS = 86400

# Workers run as this account when nginx starts as root (Debian's default).
WORKER_USER = "www-data"

# nginx's own variables use "$": the placeholders are "@NAME@".
TEMPLATE = """\
# nginx in front of Odoo, written by order_management/tools/tls_proxy.py.
@USER_LINE@
worker_processes 1;
pid @RUN_DIR@/nginx.pid;
error_log @RUN_DIR@/error.log warn;

events {
    worker_connections 512;
}

http {
    access_log @RUN_DIR@/access.log;
    client_body_temp_path @RUN_DIR@/temp/body;
    proxy_temp_path @RUN_DIR@/temp/proxy;
    fastcgi_temp_path @RUN_DIR@/temp/fastcgi;
    uwsgi_temp_path @RUN_DIR@/temp/uwsgi;
    scgi_temp_path @RUN_DIR@/temp/scgi;

    server_tokens off;
    default_type application/octet-stream;
    # Order workbooks and attachments are uploaded through the proxy.
    client_max_body_size 128m;
    # Long reports and imports answer late: as long as Odoo's own limit.
    proxy_connect_timeout 720s;
    proxy_send_timeout 720s;
    proxy_read_timeout 720s;

    upstream odoo {
        server 127.0.0.1:@ODOO_PORT@;
    }
    upstream odoo_websocket {
        server 127.0.0.1:@WEBSOCKET_PORT@;
    }
    map $http_upgrade $connection_upgrade {
        default upgrade;
        "" close;
    }

    # Plain HTTP only says where the HTTPS server is.
    server {
        listen @LISTEN@:@HTTP_PORT@;
        server_name _;
        return 301 https://$host:@HTTPS_PORT@$request_uri;
    }

    server {
        listen @LISTEN@:@HTTPS_PORT@ ssl;
        server_name _;

        ssl_certificate @CERT@;
        ssl_certificate_key @KEY@;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:order_tls:10m;
        ssl_session_timeout 1d;

        add_header Strict-Transport-Security "max-age=@HSTS_MAX_AGE@" always;
        # Odoo does not mark its session cookie Secure: the proxy does.
        proxy_cookie_flags ~ secure;
        proxy_redirect off;

        # A location that sets headers drops the server's: both repeat them.
        location /websocket {
            proxy_pass http://odoo_websocket;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Real-IP $remote_addr;
        }

        location / {
            proxy_pass http://odoo;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Real-IP $remote_addr;
        }
    }
}
"""


class ProxyError(Exception):
    """nginx or openssl failed; the message says why."""


def find_nginx():
    """The nginx binary (Debian installs it in /usr/sbin, off most PATHs)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if not found:
        raise ProxyError("nginx is not installed (Debian package nginx)")
    return found


def certificate_is_current(cert):
    """Whether ``cert`` exists and stays valid for at least another day."""
    if not Path(cert).is_file():
        return False
    result = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-noout"]
        + ["-checkend", str(RENEW_BEFORE_SECONDS)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def make_self_signed_certificate(cert, key, common_name="localhost"):
    """Write a self-signed certificate for ``localhost`` and 127.0.0.1.

    The key is readable by its owner only. An existing certificate is kept
    while it is valid for more than a day.
    """
    if certificate_is_current(cert) and Path(key).is_file():
        return
    Path(cert).parent.mkdir(parents=True, exist_ok=True)
    Path(key).parent.mkdir(parents=True, exist_ok=True)
    command = ["openssl", "req", "-x509", "-nodes", "-days", str(CERTIFICATE_DAYS)]
    command += ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    command += ["-subj", f"/CN={common_name}"]
    command += ["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
    command += ["-keyout", str(key), "-out", str(cert)]
    # openssl keeps the mode of the file it writes over: closed from the start.
    Path(key).touch(mode=0o600)
    os.chmod(key, 0o600)
    result = subprocess.run(
        command, stdin=subprocess.DEVNULL, capture_output=True, check=False
    )
    if result.returncode:
        raise ProxyError(f"openssl failed: {result.stderr.decode(errors='replace')}")
    os.chmod(cert, 0o644)


def render_config(
    *,
    run_dir,
    https_port,
    http_port,
    odoo_port,
    cert,
    key,
    websocket_port=None,
    listen="127.0.0.1",
    hsts_max_age=HSTS_MAX_AGE,
):
    """The nginx configuration, as text.

    :param websocket_port: where Odoo serves ``/websocket``: its HTTP port
        when it runs threaded (the default), its ``gevent_port`` with workers
    """
    as_root = os.geteuid() == 0
    values = {
        # Only root can switch users; nginx warns when others ask for it.
        "USER_LINE": f"user {WORKER_USER};" if as_root else "",
        "RUN_DIR": str(Path(run_dir).resolve()),
        "HTTPS_PORT": str(int(https_port)),
        "HTTP_PORT": str(int(http_port)),
        "ODOO_PORT": str(int(odoo_port)),
        "WEBSOCKET_PORT": str(int(websocket_port or odoo_port)),
        "CERT": str(Path(cert).resolve()),
        "KEY": str(Path(key).resolve()),
        "LISTEN": listen,
        "HSTS_MAX_AGE": str(int(hsts_max_age)),
    }
    text = TEMPLATE
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    return text


def pid_file(run_dir):
    return Path(run_dir) / "nginx.pid"


def is_running(pid):
    """Whether ``pid`` is a live process (an unreaped zombie is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    # The state follows the command name, which is in parentheses.
    return stat.rpartition(")")[2].split()[0] != "Z"


def write_config(run_dir, **settings):
    """Write ``nginx.conf`` into ``run_dir`` and return its path."""
    run_dir = Path(run_dir)
    (run_dir / "temp").mkdir(parents=True, exist_ok=True)
    conf = run_dir / "nginx.conf"
    conf.write_text(render_config(run_dir=run_dir, **settings))
    return conf


def start(run_dir, **settings):
    """Write the configuration and start nginx in the background.

    nginx binds its ports before it returns: once this returns, the proxy
    answers. :return: the master process's pid
    """
    run_dir = Path(run_dir).resolve()
    conf = write_config(run_dir, **settings)
    nginx = find_nginx()
    # -e: the error log of the start itself, before the configuration is read.
    command = [nginx, "-p", str(run_dir), "-e", str(run_dir / "error.log")]
    result = subprocess.run(
        [*command, "-c", str(conf)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    if result.returncode:
        output = (result.stderr or result.stdout).decode(errors="replace")
        raise ProxyError(f"nginx did not start: {output.strip()}")
    return int(pid_file(run_dir).read_text())


def stop(run_dir, timeout=STOP_TIMEOUT):
    """Stop the nginx started in ``run_dir``, if it runs; wait for it to end.

    :return: whether an nginx was running
    """
    path = pid_file(run_dir)
    try:
        pid = int(path.read_text())
    except (FileNotFoundError, ValueError):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
        return False

    # nginx runs as a daemon, not as a child: poll for its end.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_running(pid):
            return True
        time.sleep(0.05)
    raise ProxyError(f"nginx (pid {pid}) did not stop within {timeout} s")


def main(argv):
    parser = argparse.ArgumentParser(description="nginx with TLS in front of Odoo")
    actions = parser.add_subparsers(dest="action", required=True)
    start_parser = actions.add_parser("start")
    start_parser.add_argument("--dir", required=True, type=Path)
    start_parser.add_argument("--https-port", required=True, type=int)
    start_parser.add_argument("--http-port", required=True, type=int)
    start_parser.add_argument("--odoo-port", required=True, type=int)
    start_parser.add_argument("--websocket-port", type=int)
    start_parser.add_argument("--cert", type=Path)
    start_parser.add_argument("--key", type=Path)
    stop_parser = actions.add_parser("stop")
    stop_parser.add_argument("--dir", required=True, type=Path)
    args = parser.parse_args(argv)

    try:
        if args.action == "stop":
            stop(args.dir)
            return 0
        if bool(args.cert) != bool(args.key):
            parser.error("--cert and --key go together")
        cert, key = args.cert, args.key
        if not cert:
            # The key stays beside its certificate, in the proxy's folder.
            cert, key = args.dir / "cert.pem", args.dir / "key.pem"
            make_self_signed_certificate(cert, key)
        start(
            args.dir,
            https_port=args.https_port,
            http_port=args.http_port,
            odoo_port=args.odoo_port,
            websocket_port=args.websocket_port,
            cert=cert,
            key=key,
        )
    except ProxyError as error:
        raise SystemExit(f"tls_proxy: {error}") from None
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
