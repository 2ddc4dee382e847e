#!/usr/bin/env python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark the staple checks (a script, not a test: `make test` never runs it).

1. The same endpoint checked N times: the engine (tls.handshake alone, and the
   full staple.check_endpoint with verification) against `openssl s_client
   -status` run as a subprocess, the way a shell script would check a staple.
2. One check over many endpoints (default 1,000) on loopback: a private nginx
   listening on that many ports with a static staple (`ssl_stapling_file`),
   checked with staple.check_endpoints and, when the module exists, with one
   `ansible localhost -m tlsops.ocsp.staple_info` call.

Everything runs on 127.0.0.1 in a temporary directory and is stopped at the end.
See tests/bench/README.md.
"""
from __future__ import annotations

import argparse
import collections
import functools
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Sequence, Tuple

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from tests.conftest import COLLECTIONS_PATH, free_port  # noqa: E402  (makes the collection importable)
from tests.support.pki import SServer, TestPKI  # noqa: E402

from ansible_collections.tlsops.ocsp.plugins.module_utils import staple, tls  # noqa: E402

SERVER_NAME = "www.example.test"
MODULE = "tlsops.ocsp.staple_info"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200, help="checks of the same endpoint (default 200)")
    parser.add_argument("--endpoints", type=int, default=1000, help="endpoints in the fleet check (default 1000)")
    parser.add_argument("--workers", type=int, default=64, help="concurrent checks (default 64)")
    parser.add_argument("--tls-version", default="TLSv1.3", choices=sorted(tls.TLS_VERSIONS))
    parser.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx", help="nginx binary")
    parser.add_argument("--skip-single", action="store_true", help="skip part 1 (same endpoint N times)")
    parser.add_argument("--skip-fleet", action="store_true", help="skip part 2 (many endpoints)")
    parser.add_argument("--skip-module", action="store_true", help="skip the staple_info module run")
    return parser.parse_args()


# ---------------------------------------------------------------- timing helpers

def timed(action: Callable[[], object]) -> Tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def mean_ms(action: Callable[[], object], count: int, accept: Callable[[object], bool]) -> float:
    """Mean wall time of `count` runs of `action` in milliseconds; every run must pass `accept`."""
    return statistics.mean(checked_run(action, accept) for _run in range(count)) * 1000


def checked_run(action: Callable[[], object], accept: Callable[[object], bool]) -> float:
    seconds, result = timed(action)
    if not accept(result):
        raise SystemExit("benchmark run gave an unexpected result: %r" % (result,))
    return seconds


def print_table(title: str, rows: Sequence[Tuple[str, str, str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    print("\n" + title)
    for index, row in enumerate(rows):
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)))
        if index == 0:
            print("  " + "  ".join("-" * width for width in widths))


# ---------------------------------------------------------------- part 1: one endpoint, N times

def s_client_status(port: int, tls_version: str) -> bytes:
    flag = "-tls1_3" if tls_version.endswith("1.3") else "-tls1_2"
    completed = subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", SERVER_NAME, "-status", flag],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30, check=False,
    )
    return completed.stdout


def bench_single(workdir: Path, pki: TestPKI, leaf, staple_der: bytes, args: argparse.Namespace) -> float:
    """Part 1; returns the s_client mean (ms), the baseline part 2 extrapolates."""
    version = args.tls_version
    with SServer(workdir / "s_server", 0, leaf, [pki.intermediate], staple_der) as server:
        check = functools.partial(staple.check_endpoint, "127.0.0.1", server.port, SERVER_NAME, tls_version=version)
        shake = functools.partial(tls.handshake, "127.0.0.1", server.port, SERVER_NAME,
                                  min_version=version, max_version=version)
        client = functools.partial(s_client_status, server.port, version)
        s_client_ms = mean_ms(client, args.count, lambda out: b"OCSP Response Status: successful" in out)
        handshake_ms = mean_ms(shake, args.count, lambda result: result.stapled == staple_der)
        check_ms = mean_ms(check, args.count, lambda entry: entry["verdict"] == "good")
    print_table(
        "1. same endpoint, %d times (%s, openssl s_server on loopback)" % (args.count, args.tls_version),
        [
            ("method", "mean per check", "ratio to s_client"),
            ("openssl s_client -status (subprocess)", "%.2f ms" % s_client_ms, "1.00"),
            ("engine tls.handshake", "%.2f ms" % handshake_ms, "%.2f" % (handshake_ms / s_client_ms)),
            ("engine staple.check_endpoint (+ verify)", "%.2f ms" % check_ms, "%.2f" % (check_ms / s_client_ms)),
        ],
    )
    return s_client_ms


# ---------------------------------------------------------------- part 2: many endpoints

def distinct_free_ports(count: int) -> List[int]:
    ports: List[int] = []
    seen = set()
    while len(ports) < count:
        port = free_port()
        if port not in seen:
            seen.add(port)
            ports.append(port)
    return ports


NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile {nofile};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections {connections}; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
{listens}
        server_name {server_name};
        ssl_certificate {prefix}/chain.pem;
        ssl_certificate_key {prefix}/leaf.key;
        ssl_protocols TLSv1.2 TLSv1.3;  # 1.22 leaves TLS 1.3 out of its default
        ssl_stapling on;
        ssl_stapling_file {prefix}/staple.der;
        return 204;
    }}
}}
"""


@contextmanager
def private_nginx(nginx: str, prefix: Path, ports: Sequence[int], leaf, pki: TestPKI,
                  staple_der: bytes) -> Iterator[None]:
    """A private nginx on 127.0.0.1, one `listen` per port, stapling `staple_der` from a file."""
    prefix.mkdir(parents=True)
    (prefix / "chain.pem").write_bytes(leaf.pem + pki.intermediate.pem)
    key = prefix / "leaf.key"
    key.write_bytes(leaf.key_pem)
    key.chmod(0o600)
    (prefix / "staple.der").write_bytes(staple_der)
    listens = "\n".join("        listen 127.0.0.1:%d ssl;" % port for port in ports)
    conf = prefix / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=prefix, listens=listens, server_name=SERVER_NAME,
                                      nofile=len(ports) * 2 + 1024, connections=len(ports) + 512))
    process = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(conf)], stdin=subprocess.DEVNULL)
    try:
        wait_listening(ports[-1], process, prefix / "error.log")
        yield
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_listening(port: int, process: subprocess.Popen, log: Path, wait: float = 30.0) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("nginx did not listen on 127.0.0.1:%d: %s" % (port, log.read_text(errors="replace")[-2000:]))


def verdict_counts(entries: Sequence[Dict]) -> str:
    counts = collections.Counter(entry["verdict"] for entry in entries)
    return ", ".join("%s %d" % item for item in sorted(counts.items()))


def run_module(endpoints: List[Dict], workdir: Path) -> Tuple[float, str]:
    """One `ansible localhost -m staple_info` call over every endpoint: wall time and verdicts."""
    home = workdir / "ansible-home"
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH), ANSIBLE_HOME=str(home),
               ANSIBLE_LOCAL_TEMP=str(home / "tmp"), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False")
    ansible = str(Path(sys.executable).parent / "ansible")
    module_args = json.dumps({"endpoints": endpoints})
    seconds, completed = timed(lambda: subprocess.run(
        [ansible, "localhost", "-c", "local", "-m", MODULE, "-a", module_args],
        env=env, capture_output=True, text=True, timeout=900, check=False,
    ))
    try:
        result = json.loads(completed.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        return seconds, "no result (rc %d): %s" % (completed.returncode, (completed.stderr or completed.stdout)[-500:])
    if "endpoints" not in result:
        return seconds, "failed: %s" % result.get("msg", result)
    return seconds, verdict_counts(result["endpoints"])


def module_row(endpoints: List[Dict], workdir: Path) -> Tuple[str, str, str]:
    label = "ansible localhost -m %s" % MODULE
    if not (REPO_ROOT / "plugins" / "modules" / "staple_info.py").is_file():
        return label, "skipped", "module not present yet"
    seconds, verdicts_seen = run_module(endpoints, workdir)
    return label, "%.2f s" % seconds, verdicts_seen


def bench_fleet(workdir: Path, pki: TestPKI, leaf, staple_der: bytes, args: argparse.Namespace,
                s_client_ms: float) -> None:
    ports = distinct_free_ports(args.endpoints)
    endpoints = [{"host": "127.0.0.1", "port": port, "server_name": SERVER_NAME} for port in ports]
    rows = [("method", "wall time", "verdicts")]
    with private_nginx(args.nginx, workdir / "nginx", ports, leaf, pki, staple_der):
        seconds, entries = timed(lambda: staple.check_endpoints(endpoints, workers=args.workers,
                                                                tls_version=args.tls_version))
        rows.append(("staple.check_endpoints (workers %d)" % args.workers, "%.2f s" % seconds,
                     verdict_counts(entries)))
        if not args.skip_module:
            rows.append(module_row(endpoints, workdir))
    if s_client_ms:
        rows.append(("openssl s_client, serially (estimate: part 1 mean x %d)" % args.endpoints,
                     "%.2f s" % (s_client_ms * args.endpoints / 1000), "-"))
    print_table("2. one check over %d endpoints (%s, private nginx with ssl_stapling_file on loopback)"
                % (args.endpoints, args.tls_version), rows)


def main() -> None:
    args = parse_args()
    pki = TestPKI()
    leaf = pki.leaf(SERVER_NAME)
    staple_der = pki.response(leaf.cert)
    with tempfile.TemporaryDirectory(prefix="tlsops-bench-") as tmp:
        workdir = Path(tmp)
        s_client_ms = 0.0
        if not args.skip_single:
            s_client_ms = bench_single(workdir, pki, leaf, staple_der, args)
        if not args.skip_fleet:
            bench_fleet(workdir, pki, leaf, staple_der, args, s_client_ms)


if __name__ == "__main__":
    main()
