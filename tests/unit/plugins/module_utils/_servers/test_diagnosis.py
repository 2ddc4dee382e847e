# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The diagnosis of an endpoint that staples nothing: the server's URL, issuer and trust, with a PKI made here
and an HTTP transport that answers as the responders of each case do."""
from __future__ import annotations

import os
import socket
import threading
from typing import Any, Dict, List

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import causes
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import diagnosis, server_processes
from tests.support import pki

FIRST, SECOND = "http://127.0.0.1:1/", "http://127.0.0.1:2/"


@pytest.fixture(scope="module")
def ca():
    return pki.TestPKI()


def write(tmp_path, name: str, *issued: pki.Issued) -> str:
    path = tmp_path / name
    path.write_bytes(b"".join(item.pem for item in issued))
    return str(path)


def fetcher(ca, leaf, answers: Dict[str, str]):
    """A transport: per URL, 'good' (a response signed by the delegate), 'refused', or an HTTP status."""
    def fetch(url: str, body: Any, headers: Any, timeout: float):
        answer = answers.get(url.rstrip("/") + "/", "refused")
        if answer == "refused":
            raise ConnectionRefusedError(111, "Connection refused")
        if answer.isdigit():
            return int(answer), b"<html>not an OCSP responder</html>"
        return 200, ca.response(leaf.cert, answer, signer=ca.delegate)
    return fetch


def endpoint(path: str, **hint: Any) -> Dict[str, Any]:
    return {"certificate_path": path, "stapling_applicable": True, "configured_by": "user",
            "diagnosis": dict({"kind": "nginx", "verify": True,
                               "override_directive": "ssl_stapling_responder", "error_logs": []}, **hint)}


def diagnose(ca, leaf, found: Dict[str, Any], answers: Dict[str, str], evidence: List[str] = ()) -> Dict[str, Any]:
    return diagnosis.diagnose(found, list(evidence), fetcher(ca, leaf, answers), 2.0)


def test_trusted_file_with_the_intermediate_only(ca, tmp_path):
    leaf = ca.leaf(ocsp_urls=[FIRST])
    served = write(tmp_path, "full.pem", leaf, ca.intermediate)
    trusted = write(tmp_path, "intermediate.pem", ca.intermediate)
    found = diagnose(ca, leaf, endpoint(served, trusted_certificate=trusted), {FIRST: "good"})
    assert found["cause"] == causes.TRUSTED_WITHOUT_ROOT and trusted in found["remedy"]
    assert found["fetch_due"] is False
    with_root = write(tmp_path, "chain.pem", ca.intermediate, ca.root)
    assert diagnose(ca, leaf, endpoint(served, trusted_certificate=with_root), {FIRST: "good"})["cause"] == \
        causes.NOT_FETCHED_YET


def test_apache_does_not_verify_but_needs_the_issuer_in_the_served_file(ca, tmp_path):
    leaf = ca.leaf(ocsp_urls=[FIRST])
    leaf_only = write(tmp_path, "leaf.pem", leaf)
    found = diagnose(ca, leaf, endpoint(leaf_only, kind="apache", verify=False), {FIRST: "good"})
    assert found["cause"] == causes.ISSUER_NOT_SERVED and leaf_only in found["remedy"]
    served = write(tmp_path, "full.pem", leaf, ca.intermediate)
    assert diagnose(ca, leaf, endpoint(served, kind="apache", verify=False), {FIRST: "good"})["cause"] == \
        causes.NOT_FETCHED_YET


def test_first_url_dead_while_the_second_answers(ca, tmp_path):
    leaf = ca.leaf(ocsp_urls=[FIRST, SECOND])
    served = write(tmp_path, "full.pem", leaf, ca.intermediate)
    found = diagnose(ca, leaf, endpoint(served, verify=False), {SECOND: "good"})
    assert found["cause"] == causes.FIRST_URL_DEAD
    assert found["remedy"].endswith(f"`ssl_stapling_responder {SECOND}`") and FIRST in found["sentence"]
    # the server's own override is the URL it asks
    assert diagnose(ca, leaf, endpoint(served, verify=False, responder=SECOND), {SECOND: "good"})["cause"] == \
        causes.NOT_FETCHED_YET


def test_responder_unreachable_or_refusing(ca, tmp_path):
    leaf = ca.leaf(ocsp_urls=[FIRST])
    served = write(tmp_path, "full.pem", leaf, ca.intermediate)
    assert diagnose(ca, leaf, endpoint(served, verify=False), {})["cause"] == causes.RESPONDER_UNREACHABLE
    refused = diagnose(ca, leaf, endpoint(served, verify=False), {FIRST: "unknown"})
    assert refused["cause"] == causes.RESPONDER_REFUSES and refused["fetch_due"] is False


def test_a_name_without_a_resolver(ca, tmp_path):
    leaf = ca.leaf(ocsp_urls=["http://ocsp.example.test/"])
    served = write(tmp_path, "full.pem", leaf, ca.intermediate)
    line = ('2026/12/05 02:00:00 [error] 1#1: no resolver defined to resolve ocsp.example.test while requesting '
            f'certificate status, responder: ocsp.example.test, certificate: "{served}"')
    found = diagnose(ca, leaf, endpoint(served), {}, [line])
    assert found["cause"] == causes.NO_RESOLVER and "resolver" in found["remedy"] and found["evidence"] == [line]
    # without the server's word, a name that does not answer is an unreachable responder
    assert diagnose(ca, leaf, endpoint(served), {})["cause"] == causes.RESPONDER_UNREACHABLE


def test_a_failed_fetch_the_responder_now_answers_is_due_a_fetch(ca, tmp_path):
    leaf = ca.leaf(ocsp_urls=[FIRST])
    served = write(tmp_path, "full.pem", leaf, ca.intermediate)
    line = ('2026/12/05 02:08:38 [error] 1#1: recv() failed (111: Connection refused) while requesting '
            f'certificate status, responder: 127.0.0.1, certificate: "{served}"')
    found = diagnose(ca, leaf, endpoint(served, verify=False), {FIRST: "good"}, [line])
    assert found["cause"] == causes.RESPONDER_RECOVERED and found["fetch_due"] and found["evidence"] == [line]


def test_diagnose_all_skips_what_needs_no_explaining(ca, tmp_path):
    leaf = ca.leaf(ocsp_urls=[FIRST])
    served = write(tmp_path, "full.pem", leaf, ca.intermediate)
    planned = [endpoint(served, verify=False), endpoint(served, verify=False), dict(endpoint(served), diagnosis=None)]
    staples = [{"verdict": "no_staple"}, {"verdict": "good"}, {"verdict": "no_staple"}]
    found = diagnosis.diagnose_all(planned, staples, fetcher(ca, leaf, {FIRST: "good"}), 2.0, since=lambda kind: None)
    assert found[0]["cause"] == causes.NOT_FETCHED_YET and found[0]["configured_by"] == "user"
    assert found[1] == found[2] == {"skipped": True}


def test_last_start_reads_proc(tmp_path):
    (tmp_path / "stat").write_text("cpu 1 2 3\nbtime 1000\n")
    for pid, name, start in (("10", "nginx", 200), ("11", "nginx", 500), ("12", "bash", 900)):
        (tmp_path / pid).mkdir()
        fields = ["S"] + ["0"] * 18 + [str(start)] + ["0"] * 10
        (tmp_path / pid / "stat").write_text(f"{pid} ({name}) {' '.join(fields)}\n")
    ticks = __import__("os").sysconf("SC_CLK_TCK")
    assert diagnosis.last_start(("nginx",), proc=str(tmp_path)) == 1000 + 500 / ticks
    assert diagnosis.last_start(("httpd",), proc=str(tmp_path)) is None


def _haproxy_proc(tmp_path, started_ticks: int):
    """A /proc tree with one HAProxy daemon (no master-worker) started `started_ticks` after boot."""
    proc = tmp_path / "proc"
    (proc / "41").mkdir(parents=True)
    (proc / "stat").write_text("btime 1700000000\n")
    fields = ["S", "1"] + ["0"] * 17 + [str(started_ticks), "0"]
    (proc / "41" / "stat").write_text("41 (haproxy) %s\n" % " ".join(fields))
    (proc / "41" / "cmdline").write_text("\0".join(["/usr/sbin/haproxy", "-f", str(tmp_path / "h.cfg"), "-D"]) + "\0")
    (proc / "41" / "cgroup").write_text("0::/\n")
    (tmp_path / "h.pid").write_text("41\n")
    (tmp_path / "h.cfg").write_text("global\n")
    return str(proc)


def test_haproxy_older_than_its_configuration_is_reload_not_effective(tmp_path):
    proc = _haproxy_proc(tmp_path, 100 * os.sysconf("SC_CLK_TCK"))
    os.utime(tmp_path / "h.cfg", (1_700_000_300, 1_700_000_300))  # changed 200 s after it started
    hint = {"kind": "haproxy", "pid_file": str(tmp_path / "h.pid"), "loaded_files": [str(tmp_path / "h.cfg")],
            "process": {"restart_command": "service haproxy restart"}}
    found = diagnosis.reload_not_effective(hint, "/etc/haproxy/site.pem", proc=proc)
    assert found["cause"] == "reload_not_effective" and not found["fetch_due"]
    assert "HAProxy pid 41" in found["sentence"] and "not master-worker" in found["sentence"]
    assert found["remedy"].startswith("restart it: `service haproxy restart`")
    assert "nginx" not in found["sentence"] + found["remedy"]
    os.utime(tmp_path / "h.cfg", (1_700_000_100, 1_700_000_100))  # loaded: no such cause
    assert diagnosis.reload_not_effective(hint, "/etc/haproxy/site.pem", proc=proc) is None


def _answering_socket(path: str, answers: Dict[str, str]) -> threading.Thread:
    """A stats socket that answers each command line as HAProxy does: one command per connection."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)

    def serve() -> None:
        for unused in range(len(answers)):
            connection, unused_address = server.accept()
            with connection:
                line = connection.recv(4096).decode().strip()
                connection.sendall(next((text for prefix, text in answers.items() if line.startswith(prefix)),
                                        "Unknown command.\n").encode())
        server.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_haproxy_evidence_is_its_runtime_api_then_the_refreshers_lines(tmp_path):
    site = "/etc/haproxy/site.pem"
    log = tmp_path / "refresher.log"
    log.write_text("2026-12-05T02:19:05Z %s: none, unreachable: no OCSP responder answered\n"
                   "2026-12-05T02:19:05Z /etc/haproxy/other.pem: kept, good: fine\n" % site)
    stats = str(tmp_path / "admin.sock")
    served = _answering_socket(stats, {"show ssl cert": "Filename: %s\nOCSP Response Key: \n" % site,
                                       "show ssl ocsp-updates": "Unknown command.\n"})
    hint = {"kind": "haproxy", "socket_path": stats, "refresher_log": str(log)}
    lines = diagnosis.evidence_for(hint, site, {}, None)
    served.join(timeout=5)
    assert lines == ["HAProxy (show ssl cert %s): no OCSP response loaded" % site,
                     "2026-12-05T02:19:05Z %s: none, unreachable: no OCSP responder answered" % site]
    # no socket there: that is the evidence (a reload that did not take effect, HAProxy down)
    gone = diagnosis.evidence_for(dict(hint, socket_path=str(tmp_path / "gone.sock"), refresher_log=None), site, {},
                                  None)
    assert len(gone) == 1 and "gone.sock cannot be used (No such file or directory)" in gone[0]


def test_nginx_workers_older_than_the_roles_files_are_reload_not_effective(tmp_path):
    dropin = tmp_path / "tlsops-ocsp-stapling.conf"
    dropin.write_text("ssl_stapling on;\n")
    os.utime(dropin, (1_700_000_300, 1_700_000_300))
    hint = {"kind": "nginx", "role_files": [str(dropin), str(tmp_path / "absent.conf")],
            "restart": "systemctl restart nginx"}
    found = diagnosis.workers_older_than_role_files(hint, "/etc/ssl/site.pem", since=1_700_000_000)
    assert found["cause"] == "reload_not_effective" and not found["fetch_due"]
    assert found["sentence"].startswith("the running nginx has not loaded")
    assert "2023-11-14 22:18:20 UTC" in found["sentence"] and "`systemctl restart nginx`" in found["remedy"]
    # workers started after the change, or within /proc's second of it: loaded; no process: cannot tell
    assert diagnosis.workers_older_than_role_files(hint, "/etc/ssl/site.pem", since=1_700_000_299) is None
    assert diagnosis.workers_older_than_role_files(hint, "/etc/ssl/site.pem", since=None) is None


def test_the_restart_command_follows_who_started_the_server():
    assert server_processes.restart_command({"started_by": "systemd", "systemd_unit": "nginx.service", "pid": 7},
                                            "nginx", "/etc/init.d/nginx") == "systemctl restart nginx.service"
    assert server_processes.restart_command({"started_by": "init_script", "pid": 7}, "nginx",
                                            "/etc/init.d/nginx") == "service nginx restart"
    assert "its pid is 7" in server_processes.restart_command({"started_by": "hand", "pid": 7}, "nginx", "")


def test_haproxy_refusing_an_answer_the_responder_gives_this_host_is_said_in_haproxys_words(ca, tmp_path):
    """The responder answers good here, so only HAProxy's own updater row (3.0's real status) can say why."""
    leaf = ca.leaf(ocsp_urls=[FIRST])
    served = write(tmp_path, "site.pem", leaf, ca.intermediate)
    row = ("HAProxy (show ssl ocsp-updates): Path: %s | Successes: 0 | Failures: 2 | Last Update Status: 4 | "
           "Last Update Status (str): OCSP response check failure" % served)
    hint = {"kind": "haproxy", "override_directive": None, "loaded_files": []}
    found = diagnose(ca, leaf, endpoint(served, **hint), {FIRST: "good"}, [row])
    assert found["cause"] == causes.HAPROXY_UPDATER_REFUSED and found["settled"] is True
    assert "(OCSP response check failure, 2 failures)" in found["sentence"] and found["evidence"] == [row]
    # without HAProxy's row the evidence settles nothing
    assert diagnose(ca, leaf, endpoint(served, **hint), {FIRST: "good"})["cause"] == causes.UNSETTLED
