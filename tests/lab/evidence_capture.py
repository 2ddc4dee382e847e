# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Produce every stapling failure the lab can, on the real servers, and save what they write.

Run as root from the checkout (it starts private nginx, apache2 and haproxy
processes on 127.0.0.1, and stops every one of them):

    .venv/bin/python -m tests.lab.evidence_capture OUT_DIR

A lab (tests/lab) gives the PKI and the real responder (`openssl ocsp` behind
the relay); a small fake responder on loopback answers the ways a real one
can fail (unauthorized, tryLater, HTML, 404, a stale or an oversized
response, never answering). Each scenario runs its own server instance and
leaves OUT_DIR/<kind>/<scenario>.log (the server's error log, or the output
of its command) for tests/unit/plugins/module_utils/_servers/<kind>/fixtures/.
"""
from __future__ import annotations

import datetime
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, List

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from tests.lab.core import Lab
from tests.support import pki

HOST = "127.0.0.1"
UNRESOLVABLE = "ocsp.unresolvable.invalid"  # .invalid never resolves (RFC 6761)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# --- a responder that fails on purpose ---------------------------------------

class Fake:
    """Signs with the lab's delegated responder; `mode` per port says how to answer."""

    def __init__(self, state: Dict[str, Any]) -> None:
        def pem(path: str) -> x509.Certificate:
            return x509.load_pem_x509_certificate(Path(path).read_bytes())

        def key(path: str) -> Any:
            return serialization.load_pem_private_key(Path(path).read_bytes(), None)

        self.issuer = pem(state["pki"]["intermediate"]["cert"])
        self.signer = pem(state["pki"]["responder"]["cert"])
        self.signer_key = key(state["pki"]["responder"]["key"])
        self.leaves = {pem(leaf["cert"]).serial_number: pem(leaf["cert"]) for leaf in state["leaves"].values()}
        self.servers: List[http.server.ThreadingHTTPServer] = []
        self.hang_sockets: List[socket.socket] = []

    def signed(self, serial: int, status: ocsp.OCSPCertStatus, age: datetime.timedelta = datetime.timedelta(0),
               copies: int = 1) -> bytes:
        now = pki.utcnow() - age
        builder = ocsp.OCSPResponseBuilder().add_response(
            self.leaves[serial], self.issuer, hashes.SHA1(), status, now - datetime.timedelta(minutes=5),
            now + datetime.timedelta(hours=1), None, None,
        ).responder_id(ocsp.OCSPResponderEncoding.NAME, self.signer).certificates([self.signer] * copies)
        return builder.sign(self.signer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def answer(self, mode: str, body: bytes) -> tuple:
        error = {"unauthorized": 6, "trylater": 3, "internalerror": 2}
        if mode in error:
            return 200, "application/ocsp-response", bytes([0x30, 0x03, 0x0A, 0x01, error[mode]])
        if mode == "html200":
            return 200, "text/html", b"<html><body>Access denied by the proxy</body></html>\n"
        if mode == "notfound":
            return 404, "text/html", b"<html><body>404 Not Found</body></html>\n"
        serial = ocsp.load_der_ocsp_request(body).serial_number
        if mode == "unknown":
            return 200, "application/ocsp-response", self.signed(serial, ocsp.OCSPCertStatus.UNKNOWN)
        if mode == "stale":
            return 200, "application/ocsp-response", self.signed(serial, ocsp.OCSPCertStatus.GOOD,
                                                                 age=datetime.timedelta(days=2))
        if mode == "big":
            return 200, "application/ocsp-response", self.signed(serial, ocsp.OCSPCertStatus.GOOD, copies=40)
        return 200, "application/ocsp-response", self.signed(serial, ocsp.OCSPCertStatus.GOOD)

    def serve(self, mode: str) -> str:
        """Start an HTTP responder answering the `mode` way; its URL."""
        port = free_port()
        if mode == "hang":  # accepts connections and never answers
            sock = socket.socket()
            sock.bind((HOST, port))
            sock.listen(64)
            self.hang_sockets.append(sock)
            return f"http://{HOST}:{port}/"
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, ctype, payload = fake.answer(mode, body)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:  # noqa: N802
                import base64
                import urllib.parse
                der = base64.b64decode(urllib.parse.unquote(self.path.rsplit("/", 1)[-1]))
                status, ctype, payload = fake.answer(mode, der)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        server = http.server.ThreadingHTTPServer((HOST, port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.servers.append(server)
        return f"http://{HOST}:{port}/"

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
        for sock in self.hang_sockets:
            sock.close()


# --- helpers ------------------------------------------------------------------

def run(argv: List[str], **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, **kwargs)


def handshake(port: int, server_name: str) -> bool:
    """openssl s_client with status_request; True when a response was stapled."""
    done = run(["openssl", "s_client", "-connect", f"{HOST}:{port}", "-servername", server_name, "-status"],
               input="")
    return "OCSP Response Status" in done.stdout


def wait_for(predicate: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


# --- nginx --------------------------------------------------------------------

def nginx_scenario(work: Path, out: Path, name: str, server_lines: str, http_lines: str, server_name: str,
                   wait: float, reload: bool = True) -> None:
    prefix = work / "nginx" / name
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = prefix / "nginx.conf"
    log = prefix / "logs" / "error.log"
    conf.write_text(
        "user root;\nworker_processes 1;\n"
        f"pid {prefix}/logs/nginx.pid;\nerror_log {log} notice;\n"
        "events { worker_connections 64; }\nhttp {\n"
        f"    access_log off;\n    client_body_temp_path {prefix}/logs;\n{http_lines}"
        f"    server {{\n        listen {HOST}:{port} ssl;\n        server_name {server_name};\n"
        f"{server_lines}        ssl_stapling on;\n        return 200 ok;\n    }}\n}}\n"
    )
    base = ["nginx", "-p", f"{prefix}/", "-c", str(conf), "-e", str(log)]
    test = run(base + ["-t"])
    (out / "nginx" / f"{name}.nginx-t.txt").write_text(test.stderr)
    if test.returncode != 0:
        return
    run(base)
    try:
        handshake(port, server_name)
        wait_for(lambda: "certificate status" in read(log) or handshake(port, server_name), wait)
        if reload:
            run(base + ["-s", "reload"])
            time.sleep(1.5)
    finally:
        run(base + ["-s", "quit"])
        wait_for(lambda: not (prefix / "logs" / "nginx.pid").exists(), 10)
    (out / "nginx" / f"{name}.error.log").write_text(read(log))


def nginx_all(state: Dict[str, Any], fake: Fake, work: Path, out: Path, dead_url: str) -> None:
    leaves = state["leaves"]
    plain, no_ocsp = leaves["plain"], leaves["no_ocsp"]

    def cert(leaf: Dict[str, Any], file: str = "fullchain") -> str:
        return f"        ssl_certificate {leaf[file]};\n        ssl_certificate_key {leaf['key']};\n"

    def trusted(path: str) -> str:
        return f"        ssl_trusted_certificate {path};\n"

    def responder(url: str) -> str:
        return f"        ssl_stapling_responder {url};\n"

    inter, chain = state["pki"]["intermediate"]["cert"], state["pki"]["ca_chain"]
    verify = "        ssl_stapling_verify on;\n"
    scenarios = [
        ("good", cert(plain) + trusted(chain) + verify, "", 10),
        ("trusted_without_root", cert(plain) + trusted(inter) + verify, "", 10),
        ("issuer_not_served", cert(plain, "cert"), "", 5),
        ("no_ocsp_url", cert(no_ocsp), "", 5),
        ("refused", cert(plain) + responder(dead_url), "", 10),
        ("timeout", cert(plain) + responder(fake.serve("hang")), "", 75),
        ("unresolvable_no_resolver", cert(plain) + responder(f"http://{UNRESOLVABLE}/"), "", 5),
        ("unresolvable_with_resolver", cert(plain) + responder(f"http://{UNRESOLVABLE}/"),
         f"    resolver {HOST}:{free_port()} valid=10s;\n    resolver_timeout 3s;\n", 20),
        ("unauthorized", cert(plain) + responder(fake.serve("unauthorized")), "", 10),
        ("trylater", cert(plain) + responder(fake.serve("trylater")), "", 10),
        ("html200", cert(plain) + responder(fake.serve("html200")), "", 10),
        ("notfound", cert(plain) + responder(fake.serve("notfound")), "", 10),
        ("unknown", cert(plain) + trusted(chain) + verify + responder(fake.serve("unknown")), "", 10),
        ("stale", cert(plain) + trusted(chain) + verify + responder(fake.serve("stale")), "", 10),
        ("big", cert(plain) + trusted(chain) + verify + responder(fake.serve("big")), "", 10),
        ("revoked", cert(leaves["revoked"]) + trusted(chain) + verify, "", 10),
        # a name the system resolves at start (localhost), no resolver: nginx warns and uses the start's address
        ("name_no_resolver", cert(plain) + responder(f"http://localhost:{state['responder']['port']}/"), "", 10),
        ("name_resolver_dead", cert(plain) + responder(f"http://localhost:{state['responder']['port']}/"),
         f"    resolver {HOST}:{free_port()} valid=10s;\n    resolver_timeout 3s;\n", 20),
    ]
    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(nginx_scenario, work, out, name, lines, http_lines,
                               leaves["revoked" if name == "revoked" else "plain"]["server_name"], wait)
                   for name, lines, http_lines, wait in scenarios]
        for future in futures:
            future.result()


# --- apache -------------------------------------------------------------------

APACHE_MODULES = ("mpm_prefork", "authz_core", "socache_shmcb", "ssl")


def apache_scenario(work: Path, out: Path, name: str, vhost_lines: str, server_lines: str, server_name: str,
                    wait: float) -> None:
    root = work / "apache" / name
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = root / "apache2.conf"
    log = root / "error.log"
    modules = "".join(f"LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so\n" for m in APACHE_MODULES)
    conf.write_text(
        f"ServerRoot {root}\nServerName lab.test\nPidFile {root}/apache2.pid\n{modules}"
        "User www-data\nGroup www-data\nStartServers 1\nMinSpareServers 1\nMaxSpareServers 2\n"
        f"Mutex file:{root}\nErrorLog {log}\nLogLevel warn\nListen {HOST}:{port}\n{server_lines}"
        f"<VirtualHost {HOST}:{port}>\n    ServerName {server_name}\n    SSLEngine on\n"
        f"{vhost_lines}</VirtualHost>\n"
    )
    os.chmod(root, 0o755)
    base = ["apache2", "-f", str(conf)]
    test = run(base + ["-t"])
    (out / "apache" / f"{name}.configtest.txt").write_text(test.stdout + test.stderr)
    started = run(base + ["-k", "start"])
    try:
        if started.returncode == 0 and wait_for((root / "apache2.pid").exists, 10):
            handshake(port, server_name)
            wait_for(lambda: handshake(port, server_name) or "AH0" in read(log).split("resuming normal")[-1], wait)
            run(base + ["-k", "graceful"])
            time.sleep(2)
            handshake(port, server_name)
            time.sleep(1)
    finally:
        run(base + ["-k", "stop"])
        wait_for(lambda: not (root / "apache2.pid").exists(), 15)
    (out / "apache" / f"{name}.error.log").write_text(read(log) + (started.stderr if started.returncode else ""))


def apache_all(state: Dict[str, Any], fake: Fake, work: Path, out: Path, dead_url: str) -> None:
    leaves = state["leaves"]

    def cert(leaf: str, file: str = "fullchain") -> str:
        return f"    SSLCertificateFile {leaves[leaf][file]}\n    SSLCertificateKeyFile {leaves[leaf]['key']}\n"

    def cache(size: int = 128000) -> str:
        return f"SSLStaplingCache shmcb:{work}/apache/%s-stapling({size})\n"

    def force(url: str) -> str:
        return f"    SSLStaplingForceURL {url}\n"

    on = "    SSLUseStapling on\n"
    scenarios = [
        ("good", cert("plain") + on, cache(), 5),
        ("no_cache", cert("plain") + on, "", 5),
        ("leaf_only", cert("plain", "cert") + on, cache(), 5),
        ("no_ocsp_url", cert("no_ocsp") + on, cache(), 5),
        ("refused", cert("plain") + on + force(dead_url), cache(), 5),
        ("timeout", cert("plain") + on + force(fake.serve("hang")) + "    SSLStaplingResponderTimeout 3\n",
         cache(), 8),
        ("unresolvable", cert("plain") + on + force(f"http://{UNRESOLVABLE}/"), cache(), 8),
        ("unauthorized", cert("plain") + on + force(fake.serve("unauthorized")), cache(), 5),
        ("trylater", cert("plain") + on + force(fake.serve("trylater")), cache(), 5),
        ("html200", cert("plain") + on + force(fake.serve("html200")), cache(), 5),
        ("notfound", cert("plain") + on + force(fake.serve("notfound")), cache(), 5),
        ("unknown", cert("plain") + on + force(fake.serve("unknown")), cache(), 5),
        ("stale", cert("plain") + on + force(fake.serve("stale")), cache(), 5),
        ("big", cert("plain") + on + force(fake.serve("big")), cache(), 5),
        ("tiny_cache", cert("plain") + on + force(fake.serve("big")), cache(8192), 5),
        ("revoked", cert("revoked") + on, cache(), 5),
    ]
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(apache_scenario, work, out, name, vhost, server % name if "%s" in server else server,
                               leaves["revoked" if name == "revoked" else "plain"]["server_name"], wait)
                   for name, vhost, server, wait in scenarios]
        for future in futures:
            future.result()


# --- haproxy ------------------------------------------------------------------

def haproxy_all(state: Dict[str, Any], work: Path, out: Path) -> None:
    root = work / "haproxy"
    root.mkdir(parents=True, exist_ok=True)
    bundle = root / "plain.pem"
    leaf = state["leaves"]["plain"]
    bundle.write_bytes(Path(leaf["fullchain"]).read_bytes() + Path(leaf["key"]).read_bytes())
    sock, pid_file, port = root / "admin.sock", root / "haproxy.pid", free_port()
    conf = root / "haproxy.cfg"
    conf.write_text(
        f"global\n    stats socket {sock} mode 600 level admin\n\ndefaults\n    mode http\n"
        "    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\n"
        f"frontend tls\n    bind {HOST}:{port} ssl crt {bundle}\n"
        "    http-request return status 200 content-type text/plain string ok\n"
    )
    started = run(["haproxy", "-W", "-D", "-f", str(conf), "-p", str(pid_file)])
    (out / "haproxy" / "start.txt").write_text(started.stdout + started.stderr)

    def api(command: str) -> str:
        done = run(["python3", "-c", (
            "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\n"
            "s.sendall(sys.argv[2].encode()+b'\\n')\nb=b''\nwhile True:\n d=s.recv(65536)\n if not d: break\n b+=d\n"
            "sys.stdout.write(b.decode())"), str(sock), command])
        return done.stdout

    try:
        wait_for(sock.exists, 10)
        (out / "haproxy" / "show_ocsp_response_none.txt").write_text(api("show ssl ocsp-response"))
        (out / "haproxy" / "show_ssl_cert_no_ocsp.txt").write_text(api(f"show ssl cert {bundle}"))
        (out / "haproxy" / "show_ocsp_updates_2.6.txt").write_text(api("show ssl ocsp-updates"))
        der = Fake(state).signed(x509.load_pem_x509_certificate(Path(leaf["cert"]).read_bytes()).serial_number,
                                 ocsp.OCSPCertStatus.GOOD)
        import base64
        (out / "haproxy" / "set_ocsp_response_no_ocsp_file.txt").write_text(
            api("set ssl ocsp-response " + base64.b64encode(der).decode()))
        # HAProxy 2.6 keeps a response only for a certificate it loaded with a .ocsp file: restart with one
        (root / "plain.pem.ocsp").write_bytes(der)
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGUSR2)
        time.sleep(2)
        (out / "haproxy" / "show_ocsp_response_one.txt").write_text(api("show ssl ocsp-response"))
        listing = api("show ssl ocsp-response")
        ids = [line.split(":", 1)[1].strip() for line in listing.splitlines()
               if line.startswith("Certificate ID key")]
        if ids:
            (out / "haproxy" / "show_ocsp_response_detail.txt").write_text(api("show ssl ocsp-response " + ids[0]))
        (out / "haproxy" / "show_ssl_cert_with_ocsp.txt").write_text(api(f"show ssl cert {bundle}"))
        (out / "haproxy" / "set_ocsp_response_ok.txt").write_text(
            api("set ssl ocsp-response " + base64.b64encode(der).decode()))
        stale = Fake(state).signed(x509.load_pem_x509_certificate(Path(leaf["cert"]).read_bytes()).serial_number,
                                   ocsp.OCSPCertStatus.GOOD, age=datetime.timedelta(days=2))
        (out / "haproxy" / "set_ocsp_response_stale.txt").write_text(
            api("set ssl ocsp-response " + base64.b64encode(stale).decode()))
    finally:
        pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
        if pid:
            os.kill(pid, signal.SIGTERM)
            time.sleep(1)
    refresher(state, root, bundle, out)


def refresher(state: Dict[str, Any], root: Path, bundle: Path, out: Path) -> None:
    """The role's refresher program, run against the bundle, with the responder up then down."""
    from tests.support.ansible_env import collections_path
    script = Path(__file__).resolve().parents[2] / "roles/haproxy_stapling/files/tlsops-ocsp-haproxy-refresh.py"
    settings = root / "settings.json"
    env = dict(os.environ, PYTHONPATH=str(collections_path()))
    (root / "plain.pem.ocsp").unlink(missing_ok=True)
    settings.write_text(json.dumps({"certificates": [str(bundle)], "socket": str(root / "gone.sock"),
                                    "renew_before": 1800, "file_mode": "0644", "timeout": 3}))
    lines = []
    for label in ("responder up, socket gone", "again: file kept"):
        done = run([sys.executable, str(script), "--settings", str(settings)], env=env)
        lines.append(f"# {label}: exit {done.returncode}\n{done.stdout}{done.stderr}")
    Lab(state["dir"]).stop(["responder"])
    (root / "plain.pem.ocsp").unlink(missing_ok=True)
    done = run([sys.executable, str(script), "--settings", str(settings)], env=env)
    lines.append(f"# responder down, no file: exit {done.returncode}\n{done.stdout}{done.stderr}")
    settings.write_text("{not json")
    done = run([sys.executable, str(script), "--settings", str(settings)], env=env)
    lines.append(f"# broken settings: exit {done.returncode}\n{done.stdout}{done.stderr}")
    (out / "haproxy" / "refresher.txt").write_text("".join(lines))
    Lab(state["dir"]).start(["responder"])


def main(out_dir: str) -> None:
    out = Path(out_dir)
    for kind in ("nginx", "apache", "haproxy"):
        (out / kind).mkdir(parents=True, exist_ok=True)
    work = Path("/tmp/tlsops-evidence-work")
    lab = Lab(work / "lab")
    lab.rebuild_and_start(["responder"])
    state = lab.state()
    fake = Fake(state)
    dead_url = f"http://{HOST}:{free_port()}/"  # nothing listens there
    try:
        only = sys.argv[2:] or ["nginx", "apache", "haproxy"]
        if "nginx" in only:
            nginx_all(state, fake, work, out, dead_url)
        if "apache" in only:
            apache_all(state, fake, work, out, dead_url)
        if "haproxy" in only:
            haproxy_all(state, work, out)
    finally:
        fake.close()
        lab.stop()


if __name__ == "__main__":
    main(sys.argv[1])
