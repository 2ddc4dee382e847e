# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fleet of N hosts serving a lab's leaves, and its SSH inventory.

Every host carries nginx (one server block file per TLS name, Debian's
layout: sites-available + a link in sites-enabled) and, when asked, apache2
(one vhost per name in a site of its own) and haproxy (Debian's haproxy.cfg
plus one TLS frontend, a crt-list for the names), all enabled in systemd and
listening on ports of their own on 127.0.0.1. The certificates are the lab's,
copied into the host; the lab's OCSP responder runs on the machine and the
hosts reach it over the shared loopback. Root logs in over SSH with a key made
for the fleet; the inventory pins the hosts' key in a known_hosts file of its
own (StrictHostKeyChecking=yes).
"""
from __future__ import annotations

import itertools
import json
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from tests.conftest import free_port
from tests.fleet import rootfs
from tests.fleet.host import CGROUP_PARENT, HOST, Host, remove_cgroup

LAB_DIR = "/etc/tlsops-lab"  # the lab's certificates inside each host
SERVER_UNITS = {"nginx": "nginx.service", "apache": "apache2.service", "haproxy": "haproxy.service"}


@dataclass(frozen=True)
class Site:
    """One TLS name a host serves, and the lab leaf whose certificate it serves."""

    server_name: str
    leaf: str


@dataclass
class Fleet:
    hosts: list[Host]
    sites: list[Site]
    inventory: Path
    key: Path

    def host(self, name: str) -> Host:
        return next(host for host in self.hosts if host.name == name)

    @property
    def names(self) -> list[str]:
        return [host.name for host in self.hosts]


def sites(leaves: dict[str, dict[str, Any]], count: int) -> list[Site]:
    """`count` TLS names: each leaf's own name first, then aliases served with the leaves' certificates in turn."""
    first = [Site(leaf["server_name"], name) for name, leaf in leaves.items()]
    aliases = (Site(f"n{index:02d}-{leaves[name]['server_name']}", name)
               for index, name in zip(itertools.count(len(first)), itertools.cycle(leaves)))
    return (first + list(itertools.islice(aliases, max(0, count - len(first)))))[:count]


def host_name(index: int) -> str:
    return f"h{index:03d}"


def distinct_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


# ---------------------------------------------------------------- files of a host

def lab_files(host: Host, lab: dict[str, Any]) -> None:
    host.write(f"{LAB_DIR}/root.pem", Path(lab["pki"]["root"]["cert"]).read_bytes())
    host.write(f"{LAB_DIR}/ca-chain.pem", Path(lab["pki"]["ca_chain"]).read_bytes())
    for name, leaf in lab["leaves"].items():
        host.write(f"{LAB_DIR}/{name}/fullchain.pem", Path(leaf["fullchain"]).read_bytes())
        host.write(f"{LAB_DIR}/{name}/key.pem", Path(leaf["key"]).read_bytes(), 0o600)


def nginx_site_path(index: int, site: Site) -> str:
    return f"/etc/nginx/sites-available/{index:02d}-{site.server_name}.conf"


def nginx_sites(host: Host, site_list: Sequence[Site]) -> None:
    port = host.ports["nginx"]
    for index, site in enumerate(site_list):
        path = nginx_site_path(index, site)
        host.write(path, (
            "server {\n"
            f"    listen {HOST}:{port} ssl{' default_server' if index == 0 else ''};\n"
            f"    server_name {site.server_name};\n"
            f"    ssl_certificate {LAB_DIR}/{site.leaf}/fullchain.pem;\n"
            f"    ssl_certificate_key {LAB_DIR}/{site.leaf}/key.pem;\n"
            f"    location / {{\n        return 200 \"{site.server_name}\\n\";\n    }}\n"
            "}\n"))
        host.symlink(path.replace("sites-available", "sites-enabled"), path)
    host.enable(SERVER_UNITS["nginx"])


def apache_sites(host: Host, site_list: Sequence[Site]) -> None:
    port = host.ports["apache"]
    host.write("/etc/apache2/ports.conf", f"ServerName {host.name}\nListen {HOST}:{port}\n")
    vhosts = "".join(
        f"<VirtualHost {HOST}:{port}>\n"
        f"    ServerName {site.server_name}\n"
        "    SSLEngine on\n"
        f"    SSLCertificateFile {LAB_DIR}/{site.leaf}/fullchain.pem\n"
        f"    SSLCertificateKeyFile {LAB_DIR}/{site.leaf}/key.pem\n"
        "</VirtualHost>\n" for site in site_list)
    host.write("/etc/apache2/sites-available/tlsops-lab.conf", vhosts)
    host.symlink("/etc/apache2/sites-enabled/tlsops-lab.conf", "../sites-available/tlsops-lab.conf")
    host.enable(SERVER_UNITS["apache"])


def haproxy_sites(host: Host, site_list: Sequence[Site], root: Path) -> None:
    """Debian's haproxy.cfg plus one TLS frontend: the first name's bundle by default, the others by SNI."""
    bundles = {leaf: f"/etc/haproxy/certs/{leaf}.pem" for leaf in dict.fromkeys(site.leaf for site in site_list)}
    for leaf, bundle in bundles.items():
        host.write(bundle, (host.upper / f"{LAB_DIR}/{leaf}/fullchain.pem".lstrip("/")).read_bytes()
                   + (host.upper / f"{LAB_DIR}/{leaf}/key.pem".lstrip("/")).read_bytes(), 0o600)
    host.write("/etc/haproxy/crt-list.txt", "".join(f"{bundles[site.leaf]} {site.server_name}\n"
                                                    for site in site_list[1:]))
    host.write("/etc/haproxy/haproxy.cfg", (root / "etc/haproxy/haproxy.cfg").read_text() + (
        "\nfrontend tlsops_lab\n"
        f"    bind {HOST}:{host.ports['haproxy']} ssl crt {bundles[site_list[0].leaf]} crt-list /etc/haproxy/crt-list.txt\n"
        "    http-request return status 200 content-type text/plain string ok\n"))
    host.enable(SERVER_UNITS["haproxy"])


def system_files(host: Host, public_key: str) -> None:
    host.write("/etc/hostname", f"{host.name}\n")
    host.write("/etc/hosts", f"127.0.0.1 localhost\n127.0.1.1 {host.name}\n")
    host.write("/etc/ssh/sshd_config.d/tlsops-fleet.conf",
               f"Port {host.ssh_port}\nListenAddress {HOST}\nUseDNS no\nPasswordAuthentication no\n")
    host.write("/root/.ssh/authorized_keys", public_key, 0o600)
    (host.upper / "root" / ".ssh").chmod(0o700)


# ---------------------------------------------------------------- the fleet

def make_key(directory: Path) -> Path:
    key = directory / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tlsops-ocsp-fleet", "-f", str(key)],
                   check=True)
    return key


def known_hosts(roots: dict[str, Path], hosts: Sequence[Host]) -> str:
    """Each host's key under its port (the hosts of one Debian release boot the same root: the same host key)."""
    keys = {suite: " ".join((root / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()[:2])
            for suite, root in roots.items()}
    return "".join(f"[{HOST}]:{host.ssh_port} {keys[host.suite]}\n" for host in hosts)


def write_inventory(path: Path, fleet_hosts: Sequence[Host], key: Path, known_hosts_file: Path,
                    host_vars: Callable[[Host], dict[str, Any]], group_vars: dict[str, Any]) -> Path:
    """A JSON (so YAML) inventory: every host over SSH as root, pipelining on, its key pinned."""
    inventory = {"all": {
        "hosts": {host.name: {"ansible_host": HOST, "ansible_port": host.ssh_port, **host_vars(host)}
                  for host in fleet_hosts},
        "vars": {
            "ansible_connection": "ssh",
            "ansible_user": "root",
            "ansible_python_interpreter": "/usr/bin/python3",
            "ansible_ssh_pipelining": True,
            "ansible_ssh_private_key_file": str(key),
            "ansible_ssh_common_args": f"-o UserKnownHostsFile={known_hosts_file} -o StrictHostKeyChecking=yes",
            **group_vars,
        },
    }}
    path.write_text(json.dumps(inventory, indent=1) + "\n")
    return path


INOTIFY_INSTANCES = Path("/proc/sys/fs/inotify/max_user_instances")
# each host's systemd, journald and dbus hold about 8 inotify instances; they all count against root's
# limit (Debian's default 128 stops the 17th host or so: it hangs before sshd starts)
INOTIFY_PER_HOST = 16


def raise_inotify_limit(size: int) -> None:
    needed = 1024 + INOTIFY_PER_HOST * size
    if int(INOTIFY_INSTANCES.read_text()) < needed:
        INOTIFY_INSTANCES.write_text(f"{needed}\n")


def remove_stale_cgroups() -> None:
    """Empty cgroups left by runs that were killed (a busy one belongs to a running fleet and stays)."""
    for cgroup in CGROUP_PARENT.glob("h*") if CGROUP_PARENT.is_dir() else ():
        if cgroup.is_dir() and not any(part.read_text().strip() for part in cgroup.rglob("cgroup.procs")):
            remove_cgroup(cgroup, timeout=0)


@contextmanager
def fleet(directory: Path, lab: dict[str, Any], size: int, *, names: int = 4, apache: Sequence[int] = (),
          haproxy: Sequence[int] = (), trixie: Sequence[int] = (),
          group_vars: dict[str, Any] | None = None, host_vars: Callable[[Host], dict[str, Any]] = lambda _host: {},
          ) -> Iterator[Fleet]:
    """`size` booted hosts h001.. (nginx on each; apache2, haproxy too on the 1-based indexes in `apache`, `haproxy`).

    Hosts boot Debian 12 (bookworm), those at the indexes in `trixie` Debian 13.

    The inventory carries `group_vars` for all hosts and `host_vars(host)` for each.

    Every host is killed and its files removed when the block ends, also on errors and interrupts.
    """
    roots = {suite: rootfs.ensure(suite) for suite in
             dict.fromkeys([rootfs.DEFAULT_SUITE, *(["trixie"] if trixie else [])])}
    remove_stale_cgroups()
    raise_inotify_limit(size)
    directory.mkdir(parents=True, exist_ok=True)
    key = make_key(directory)
    site_list = sites(lab["leaves"], names)
    hosts: list[Host] = []
    try:
        for index in range(1, size + 1):
            kinds = ["nginx", *(["apache"] if index in apache else []), *(["haproxy"] if index in haproxy else [])]
            ssh_port, *server_ports = distinct_free_ports(1 + len(kinds))
            suite = "trixie" if index in trixie else rootfs.DEFAULT_SUITE
            host = Host(host_name(index), directory / host_name(index), ssh_port, dict(zip(kinds, server_ports)),
                        suite=suite)
            system_files(host, key.with_suffix(".pub").read_text())
            lab_files(host, lab)
            nginx_sites(host, site_list)
            if "apache" in kinds:
                apache_sites(host, site_list)
            if "haproxy" in kinds:
                haproxy_sites(host, site_list, roots[suite])
            hosts.append(host)
            host.boot(roots[suite])
        for host in hosts:
            host.wait_until_up(["ssh.service", *(SERVER_UNITS[kind] for kind in host.ports)])
        known = directory / "known_hosts"
        known.write_text(known_hosts(roots, hosts))
        inventory = write_inventory(directory / "inventory.json", hosts, key, known, host_vars,
                                    {"nginx_stapling_ca_file": f"{LAB_DIR}/root.pem",
                                     **(group_vars or {})})
        yield Fleet(hosts, site_list, inventory, key)
    finally:
        for host in hosts:
            host.stop()
