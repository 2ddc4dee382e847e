# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HAProxy's own OCSP updater, tried on the host before the role relies on it.

From 2.8 HAProxy fetches OCSP responses itself and checks each answer with its
own rules before stapling it. Those rules are HAProxy's: 3.0 rejects an answer
signed by a delegated responder certificate (RFC 6960 4.2.2.2) that the role's
refresher verifies and accepts ("OCSP response check failure"), and what its
resolver, its HTTP client or its issuer lookup make of a certificate shows
only when it runs. So the host's own HAProxy binary is asked: a throwaway
process loads the certificates with its updater on, with the user's global
``ocsp-update.*``, ``httpclient.*`` and ``issuers-chain-path`` lines, bound to
an abstract socket no one connects to, and its ``show ssl ocsp-updates`` after
the first attempt is HAProxy's verdict on each certificate. It loads each
certificate through a link in a directory of its own, with links to the
``.key`` and ``.issuer`` files beside it but never the ``.ocsp`` file: a
response already there would put its first attempt off until that response
nears its end. The running HAProxy and its files are never touched; the
process and its directory are gone when `run` returns.

Pure Python, standard library only.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from typing import Dict, List, Optional

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import evidence
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import runtime

POLL_INTERVAL = 0.1
GLOBAL_PREFIXES = ("ocsp-update.", "httpclient.")
# what HAProxy reads beside a certificate file besides its .ocsp (ssl_ckch.c)
SIDE_FILES = (".key", ".issuer")
# a resolvers section would have to come along: the throwaway process uses HAProxy's default resolver
LEFT_OUT = ("httpclient.resolvers.id",)


class TrialError(RuntimeError):
    """The throwaway HAProxy could not be started or asked; the message says why."""


def global_lines(settings: Dict[str, str], issuers_chain_path: Optional[str]) -> List[str]:
    """The user's global lines the updater depends on, as the throwaway process needs them."""
    lines = ["%s %s" % (key, value) for key, value in sorted(settings.items())
             if key.startswith(GLOBAL_PREFIXES) and key not in LEFT_OUT and key != "ocsp-update.mode"]
    if issuers_chain_path:
        lines.append("issuers-chain-path %s" % issuers_chain_path)
    return lines


def config_text(socket_path: str, crt_list_path: str, name: str, lines: List[str]) -> str:
    """The throwaway configuration: an admin socket, the user's updater lines, one bind on an abstract socket."""
    return "".join([
        "global\n",
        "    stats socket %s mode 600 level admin\n" % socket_path,
        *("    %s\n" % line for line in lines),
        "defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n",
        "frontend tlsops_ocsp_trial\n",
        "    bind abns@%s ssl crt-list %s\n" % (name, crt_list_path),
    ])


def crt_list_text(certificates: List[str]) -> str:
    """One crt-list line per certificate with the updater on (the form 2.8 and 3.x both read)."""
    return "".join("%s [ocsp-update on]\n" % path for path in certificates)


def verdicts(rows: List[Dict[str, str]], links: Dict[str, str]) -> Dict[str, Dict[str, object]]:
    """Per certificate (`links` maps the path HAProxy loaded to the certificate's own): HAProxy's status after
    its first attempt, whether it stapled (`ok`), whether it refused the answer it got (`rejected`), and the
    row as it printed it; certificates not attempted yet are left out."""
    found: Dict[str, Dict[str, object]] = {}
    for row in rows:
        path = links.get(row.get("Path", ""))
        if path is None or not evidence.attempted(row):
            continue
        status = row.get("Last Update Status (str)", "")
        # refused: HAProxy got an answer and its own check or store refused it, not the responder's doing; the
        # role's refresher verifies such answers by RFC 6960 and staples them
        found[path] = {"status": status, "ok": status == evidence.UPDATE_OK, "rejected": status in evidence.UPDATE_REFUSED,
                       "row": " | ".join("%s: %s" % (key, path if key == "Path" else value)
                                         for key, value in row.items() if key != "OCSP Certid")}
    return found


def link_certificates(certificates: List[str], directory: str) -> Dict[str, str]:
    """A link in `directory` to each certificate and its side files (not its .ocsp); link -> certificate."""
    links = {}
    for index, path in enumerate(certificates):
        link = os.path.join(directory, "%d-%s" % (index, os.path.basename(path)))
        os.symlink(path, link)
        for suffix in SIDE_FILES:
            if os.path.exists(path + suffix):
                os.symlink(path + suffix, link + suffix)
        links[link] = path
    return links


def run(binary: str, certificates: List[str], lines: List[str], timeout: float) -> Dict[str, Dict[str, object]]:
    """HAProxy's verdict on each certificate's OCSP answer (see `verdicts`), from a throwaway process of
    `binary`; certificates without a verdict within `timeout` seconds are missing from the result."""
    workdir = tempfile.mkdtemp(prefix="tlsops-ocsp-haproxy-trial-")
    socket_path = os.path.join(workdir, "admin.sock")
    crt_list = os.path.join(workdir, "crt-list")
    config = os.path.join(workdir, "haproxy.cfg")
    links = link_certificates(certificates, workdir)
    with open(crt_list, "w", encoding="utf-8") as handle:
        handle.write(crt_list_text(sorted(links)))
    with open(config, "w", encoding="utf-8") as handle:
        handle.write(config_text(socket_path, crt_list, os.path.basename(workdir), lines))
    output = os.path.join(workdir, "output")
    try:
        with open(output, "wb") as log:
            # not AnsibleModule.run_command: it waits for the exit, and the trial asks the process while it runs
            process = subprocess.Popen(  # pylint: disable=ansible-bad-function
                [binary, "-db", "-f", config], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            return _wait(process, socket_path, output, links, timeout)
        finally:
            process.kill()
            process.wait()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _wait(process: "subprocess.Popen[bytes]", socket_path: str, output: str, links: Dict[str, str],
          timeout: float) -> Dict[str, Dict[str, object]]:
    deadline = time.monotonic() + timeout
    found: Dict[str, Dict[str, object]] = {}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            with open(output, "rb") as handle:
                said = " ".join(handle.read().decode("utf-8", "replace").split())[-600:]
            raise TrialError("a throwaway HAProxy with its OCSP updater on exited (%d) before answering: %s"
                             % (process.returncode, said or "no output"))
        if os.path.exists(socket_path):
            try:
                found = verdicts(evidence.ocsp_updates(runtime.command(socket_path, "show ssl ocsp-updates")),
                                 links)
            except runtime.RuntimeApiError:
                found = {}
            if len(found) == len(links):
                break
        time.sleep(POLL_INTERVAL)
    return found
