# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many TLS endpoints on loopback from one private nginx: sites (a certificate chain, its key, a staple file or
none), each listening on its share of the endpoints, spread over 127.0.0.1..N on ports the kernel found free.

The bench (tests/bench/bench_staple.py) and the outside audit's integration test serve their endpoints with it.
"""
from __future__ import annotations

import resource
import signal
import socket
import subprocess
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence


@dataclass
class Site:
    name: str  # the server name, and the files' names
    kind: str  # what the caller expects of it
    chain_pem: bytes  # leaf first
    key_pem: bytes
    staple: Optional[bytes]  # DER of the response nginx staples from a file; None: stapling off


@dataclass
class Target:
    address: str
    port: int
    site: Site

    @property
    def endpoint(self) -> Dict:
        return {"host": self.address, "port": self.port, "server_name": self.site.name}

    @property
    def text(self) -> str:
        """host:port/server_name, as the audit's tlsops_ocsp_outside_endpoints take it."""
        return "%s:%d/%s" % (self.address, self.port, self.site.name)


def make_targets(sites: Sequence[Site], count: int, addresses: int) -> List[Target]:
    """`count` endpoints over 127.0.0.1..N, each on a port free on its address, round robin over the sites."""
    targets = []
    with ExitStack() as held:  # hold every port until all are picked, so none is picked twice
        for index in range(count):
            address = "127.0.0.%d" % (1 + index % addresses)
            sock = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((address, 0))
            targets.append(Target(address, sock.getsockname()[1], sites[index % len(sites)]))
    return targets


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
    ssl_protocols TLSv1.2 TLSv1.3;  # 1.22 leaves TLS 1.3 out of its default
{servers}
}}
"""

SERVER_BLOCK = """\
    server {{
{listens}
        server_name {name};
        ssl_certificate {prefix}/{name}.chain.pem;
        ssl_certificate_key {prefix}/{name}.key;
{stapling}
        return 204;
    }}
"""


@contextmanager
def private_nginx(nginx: str, prefix: Path, targets: Sequence[Target]) -> Iterator[None]:
    """A private nginx: one server block per site, listening on its targets, stapling its file (if any);
    stopped when the block ends."""
    prefix.mkdir(parents=True)
    blocks = []
    for site in dict.fromkeys(target.site.name for target in targets):
        blocks.append(server_block(prefix, [target for target in targets if target.site.name == site]))
    conf = prefix / "nginx.conf"
    # nginx takes a connection (and a file descriptor) per listening socket, then one per client
    nofile = min(len(targets) * 2 + 1024, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    conf.write_text(NGINX_CONF.format(prefix=prefix, servers="".join(blocks), nofile=nofile,
                                      connections=len(targets) * 2 + 1024))
    process = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(conf)], stdin=subprocess.DEVNULL)
    try:
        wait_listening(targets[-1], process, prefix / "error.log")
        yield
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_block(prefix: Path, targets: Sequence[Target]) -> str:
    site = targets[0].site
    (prefix / ("%s.chain.pem" % site.name)).write_bytes(site.chain_pem)
    key = prefix / ("%s.key" % site.name)
    key.write_bytes(site.key_pem)
    key.chmod(0o600)
    stapling = "        ssl_stapling off;"
    if site.staple is not None:
        (prefix / ("%s.der" % site.name)).write_bytes(site.staple)
        stapling = "        ssl_stapling on;\n        ssl_stapling_file %s/%s.der;" % (prefix, site.name)
    listens = "\n".join("        listen %s:%d ssl;" % (target.address, target.port) for target in targets)
    return SERVER_BLOCK.format(listens=listens, name=site.name, prefix=prefix, stapling=stapling)


def wait_listening(target: Target, process: subprocess.Popen, log: Path, wait: float = 30.0) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection((target.address, target.port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nginx did not listen on %s:%d: %s"
                       % (target.address, target.port, log.read_text(errors="replace")[-2000:]))
