# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A private nginx in the ordinary Debian layout: a copy of /etc/nginx run on a free port.

nginx.conf, conf.d/, sites-available/ with sites-enabled/ links, snippets/ and
modules-enabled/ are Debian's own; only what would touch the system instance is
pointed into the copy (paths under /etc/nginx, the pid file, logs, temp paths, the
user) and Debian's default site (port 80) is left out. The system's nginx is never
touched.
"""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.lab import role_vars

SYSTEM = Path("/etc/nginx")
BINARY = "/usr/sbin/nginx"
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


class DebianNginx:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.etc = root / "etc-nginx"
        self.port = port
        self.error_log = root / "logs" / "error.log"
        self.pid_file = root / "nginx.pid"

    @property
    def command(self) -> list[str]:
        return [BINARY, "-p", f"{self.root}/", "-c", str(self.etc / "nginx.conf"), "-e", str(self.error_log)]

    def install(self) -> "DebianNginx":
        shutil.copytree(SYSTEM, self.etc, symlinks=True)
        for directory in ("logs", *(f"temp/{kind}" for kind in TEMP_PATHS)):
            (self.root / directory).mkdir(parents=True, exist_ok=True)
        for link in (self.etc / "sites-enabled").iterdir():
            link.unlink()  # Debian's default site listens on port 80
        for path in self.etc.rglob("*"):
            if path.is_file() and not path.is_symlink():
                text = path.read_text(errors="surrogateescape")
                if "/etc/nginx" in text:
                    path.write_text(text.replace("/etc/nginx", str(self.etc)), errors="surrogateescape")
        main = self.etc / "nginx.conf"
        text = main.read_text()
        for old, new in (("user www-data;", "user root;"), ("worker_processes auto;", "worker_processes 1;"),
                         ("pid /run/nginx.pid;", f"pid {self.pid_file};"),
                         ("/var/log/nginx/", f"{self.root}/logs/")):
            text = text.replace(old, new)
        temp = "".join(f"\t{kind}_temp_path {self.root}/temp/{kind};\n" for kind in TEMP_PATHS)
        main.write_text(text.replace("http {\n", "http {\n" + temp, 1))
        return self

    def write_site(self, name: str, text: str) -> Path:
        """sites-available/<name>, enabled by a relative link as Debian's packaging does."""
        site = self.etc / "sites-available" / name
        site.write_text(text)
        link = self.etc / "sites-enabled" / name
        if not link.is_symlink():
            link.symlink_to(f"../sites-available/{name}")
        return site

    def server_block(self, leaf: dict[str, Any], body: str = "") -> str:
        return (f"server {{\n\tlisten 127.0.0.1:{self.port} ssl;\n\tserver_name {leaf['server_name']};\n"
                f"\tssl_certificate {leaf['fullchain']};\n\tssl_certificate_key {leaf['key']};\n{body}}}\n")

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self.command, *args], capture_output=True, text=True, timeout=30, check=False)

    def start(self) -> None:
        started = self.run()
        assert started.returncode == 0, started.stderr

    def stop(self) -> None:
        if self.pid_file.exists():
            self.run("-s", "quit")
            deadline = time.monotonic() + 15
            while self.pid_file.exists() and time.monotonic() < deadline:
                time.sleep(0.1)

    def role_vars(self, state: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """nginx_stapling_* for this instance (the lab's CA, the lab's warm-up bounds)."""
        return role_vars.nginx(state, nginx_stapling_prefix=f"{self.root}/",
                               nginx_stapling_config_file=str(self.etc / "nginx.conf"),
                               nginx_stapling_extra_args=["-e", str(self.error_log)],
                               nginx_stapling_dropin_dir=str(self.etc / "conf.d"),
                               nginx_stapling_snippet_dir=str(self.etc / "tlsops-ocsp"), **extra)

    @property
    def include_line(self) -> str:
        """The line an author puts into a server block of their own template (the role README's recipe)."""
        return f"include {self.etc}/tlsops-ocsp/stapling-server*.conf;"
