# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""staple.check_endpoint(s) against real `openssl s_server` processes on 127.0.0.1."""
from __future__ import annotations

import datetime
import json
import os
import socket
import subprocess
import sys
import time
from unittest import mock

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import certificates
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import ocsp
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import staple
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import verdicts
from tests.conftest import free_port
from tests.support.pki import TestPKI, corrupt_signature
from tests.unit.conftest import SERVER_NAME

ENTRY_KEYS = {
    "host", "port", "server_name", "protocol", "stapled", "verdict", "reason", "cert_status", "this_update",
    "next_update", "seconds_until_next_update", "must_staple", "ocsp_uris", "serial_number", "subject",
    "issuer", "not_after", "lifetime_days", "attempts",
}


def check(port: int, **kwargs) -> dict:
    kwargs.setdefault("timeout", 5)
    return staple.check_endpoint("127.0.0.1", port, SERVER_NAME, **kwargs)


@pytest.mark.parametrize("protocol, expected", [("tls1_2", "TLSv1.2"), ("tls1_3", "TLSv1.3")])
def test_good_staple(serve, pki, leaf, protocol, expected):
    port = serve(leaf, pki.response(leaf.cert), protocol=protocol)

    entry = check(port, tls_version=expected)

    assert set(entry) == ENTRY_KEYS
    assert entry["verdict"] == verdicts.GOOD, entry["reason"]
    assert entry["cert_status"] == "good"
    assert entry["protocol"] == expected
    assert entry["stapled"] is True
    assert entry["attempts"] == 1
    assert entry["serial_number"] == leaf.cert.serial_number
    assert entry["ocsp_uris"] == [pki.ocsp_url]
    assert entry["must_staple"] is False
    assert entry["seconds_until_next_update"] > 3 * 86400
    assert (entry["host"], entry["port"], entry["server_name"]) == ("127.0.0.1", port, SERVER_NAME)


def test_revoked_staple(serve, pki, leaf):
    port = serve(leaf, pki.response(leaf.cert, "revoked"))

    entry = check(port)

    assert entry["verdict"] == verdicts.REVOKED
    assert entry["cert_status"] == "revoked"
    assert entry["reason"].startswith("127.0.0.1:%d (SNI %s): " % (port, SERVER_NAME))


def test_no_staple(serve, leaf):
    port = serve(leaf)

    entry = check(port)

    assert entry["verdict"] == verdicts.NO_STAPLE
    assert entry["stapled"] is False
    assert entry["protocol"] == "TLSv1.3"
    assert entry["serial_number"] == leaf.cert.serial_number


def test_response_signed_by_another_ca_is_forged(serve, pki, leaf):
    other = TestPKI()
    forged = pki.response(leaf.cert, signer=other.intermediate)
    port = serve(leaf, forged)

    entry = check(port)

    assert entry["verdict"] in (verdicts.UNAUTHORIZED_SIGNER, verdicts.BAD_SIGNATURE)
    assert entry["stapled"] is True


def test_corrupt_signature_is_bad_signature(serve, pki, leaf):
    port = serve(leaf, corrupt_signature(pki.response(leaf.cert)))

    assert check(port)["verdict"] == verdicts.BAD_SIGNATURE


def test_leaf_without_ocsp_url_is_not_applicable_even_when_stapled(serve, pki):
    no_ocsp = pki.leaf(SERVER_NAME, ocsp_urls=())
    port = serve(no_ocsp, pki.response(no_ocsp.cert))

    entry = check(port)

    assert entry["verdict"] == verdicts.NOT_APPLICABLE
    assert entry["stapled"] is True
    assert entry["ocsp_uris"] == []


def test_missing_issuer_names_the_fix_and_ca_certs_supply_it(serve, pki, leaf):
    port = serve(leaf, pki.response(leaf.cert), chain=())

    without = check(port)
    with_ca = check(port, ca_certs=[pki.root.cert, pki.intermediate.cert])

    assert without["verdict"] == verdicts.UNAUTHORIZED_SIGNER
    assert "is not in the served chain; serve the full chain" in without["reason"]
    assert "ca_path" in without["reason"]
    assert with_ca["verdict"] == verdicts.GOOD, with_ca["reason"]


def test_verification_time_is_honoured(good_port):
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)

    assert check(good_port, at=later)["verdict"] == verdicts.EXPIRED


def test_refused_port_is_unreachable_and_retried():
    port = free_port()
    started = time.monotonic()

    entry = check(port, retries=2, retry_delay=0.1)

    assert entry["verdict"] == verdicts.UNREACHABLE
    assert "connection refused" in entry["reason"]
    assert entry["attempts"] == 3
    assert time.monotonic() - started >= 0.2
    assert entry["protocol"] is None and entry["serial_number"] is None


def test_silent_server_times_out_within_bound():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        started = time.monotonic()

        entry = check(listener.getsockname()[1], timeout=0.5)

        elapsed = time.monotonic() - started
    assert entry["verdict"] == verdicts.UNREACHABLE
    assert "timed out" in entry["reason"]
    assert 0.4 <= elapsed < 2.0


def test_no_staple_is_retried_but_a_final_verdict_is_not(serve, leaf, good_port):
    no_staple_port = serve(leaf)

    assert check(no_staple_port, retries=2, retry_delay=0.01)["attempts"] == 3
    assert check(good_port, retries=2, retry_delay=0.01)["attempts"] == 1


def test_check_endpoints_keeps_input_order_and_overrides(good_port, serve, leaf):
    no_staple_port = serve(leaf)
    refused_port = free_port()
    ports = [good_port, refused_port, no_staple_port] * 20
    endpoints = [{"host": "127.0.0.1", "port": port, "server_name": SERVER_NAME} for port in ports]
    endpoints[-1]["timeout"] = 1e-6  # an endpoint's own keys override the common ones (over before any answer)
    open_fds = len(os.listdir("/proc/self/fd"))

    entries = staple.check_endpoints(endpoints, workers=8, timeout=5)

    expected = [verdicts.GOOD, verdicts.UNREACHABLE, verdicts.NO_STAPLE] * 20
    expected[-1] = verdicts.UNREACHABLE
    assert [e["verdict"] for e in entries] == expected
    assert [e["port"] for e in entries] == ports
    assert "timed out" in entries[-1]["reason"]
    assert len(os.listdir("/proc/self/fd")) <= open_fds  # every socket closed


def test_check_endpoints_of_nothing():
    assert staple.check_endpoints([]) == []


EXHAUSTED_DESCRIPTORS = """
import json, os, resource, socket, sys
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import staple
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(512)  # accepts TCP, never answers TLS: every check holds its socket until the timeout
port = listener.getsockname()[1]
open_now = len(os.listdir("/proc/self/fd"))
resource.setrlimit(resource.RLIMIT_NOFILE, (open_now + 20, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
entries = staple.check_endpoints([{"host": "127.0.0.1", "port": port}] * 60, workers=60, timeout=0.5)
json.dump([entry["reason"] for entry in entries if entry["verdict"] == "unreachable"], sys.stdout)
"""


def test_running_out_of_file_descriptors_is_a_verdict_not_a_crash():
    completed = subprocess.run([sys.executable, "-c", EXHAUSTED_DESCRIPTORS], capture_output=True, text=True,
                               timeout=60, check=False, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))

    assert completed.returncode == 0, completed.stderr
    reasons = json.loads(completed.stdout)
    assert len(reasons) == 60
    assert any("Too many open files" in reason for reason in reasons)
    assert any("timed out" in reason for reason in reasons)


# --- what one call shares between endpoints ------------------------------------

def test_a_batch_verifies_each_distinct_staple_once_and_judges_every_endpoint(serve, pki, leaf, good_port):
    other = pki.leaf("other.example.test")
    corrupt_port = serve(leaf, corrupt_signature(pki.response(leaf.cert)))
    foreign_port = serve(other, pki.response(leaf.cert))  # another certificate's (valid) staple
    ports = [good_port, corrupt_port, foreign_port] * 10
    endpoints = [{"host": "127.0.0.1", "port": port, "server_name": SERVER_NAME} for port in ports]

    with mock.patch.object(ocsp, "check_response", wraps=ocsp.check_response) as check_response, \
            mock.patch.object(certificates, "find_issuer", wraps=certificates.find_issuer) as find_issuer:
        entries = staple.check_endpoints(endpoints, workers=30, timeout=5)

    assert [entry["verdict"] for entry in entries] == [
        verdicts.GOOD, verdicts.BAD_SIGNATURE, verdicts.WRONG_CERTIFICATE] * 10
    assert check_response.call_count == 3  # one per distinct (staple, leaf, issuer)
    assert find_issuer.call_count == 2  # one per distinct served chain
    assert [entry["reason"].split(": ", 1)[0] for entry in entries] == [
        "127.0.0.1:%d (SNI %s)" % (port, SERVER_NAME) for port in ports]


def test_a_batch_judges_a_shared_staple_at_each_endpoints_own_time(good_port):
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)
    endpoints = [{"host": "127.0.0.1", "port": good_port, "server_name": SERVER_NAME},
                 {"host": "127.0.0.1", "port": good_port, "server_name": SERVER_NAME, "at": later}]

    entries = staple.check_endpoints(endpoints, timeout=5)

    assert [entry["verdict"] for entry in entries] == [verdicts.GOOD, verdicts.EXPIRED]


def test_entries_share_no_mutable_value(good_port):
    endpoint = {"host": "127.0.0.1", "port": good_port, "server_name": SERVER_NAME}

    first, second = staple.check_endpoints([endpoint, endpoint], timeout=5)
    first["ocsp_uris"].append("http://changed.example.test")

    assert second["ocsp_uris"] == first["ocsp_uris"][:1]


def test_the_issuer_cache_tells_given_ca_certificates_apart(serve, pki, leaf):
    port = serve(leaf, pki.response(leaf.cert), chain=())
    endpoint = {"host": "127.0.0.1", "port": port, "server_name": SERVER_NAME}
    other = TestPKI()
    endpoints = [dict(endpoint, ca_certs=[other.intermediate.cert]), dict(endpoint, ca_certs=[pki.intermediate.cert]),
                 endpoint]

    entries = staple.check_endpoints(endpoints, timeout=5)

    assert [entry["verdict"] for entry in entries] == [
        verdicts.UNAUTHORIZED_SIGNER, verdicts.GOOD, verdicts.UNAUTHORIZED_SIGNER]


def test_check_endpoints_retries_on_the_loop_with_the_delay(serve, leaf, good_port):
    no_staple_port = serve(leaf)
    endpoints = [{"host": "127.0.0.1", "port": port, "server_name": SERVER_NAME}
                 for port in (no_staple_port, good_port, no_staple_port)]
    started = time.monotonic()

    entries = staple.check_endpoints(endpoints, retries=2, retry_delay=0.2, timeout=5)

    assert [(entry["verdict"], entry["attempts"]) for entry in entries] == [
        (verdicts.NO_STAPLE, 3), (verdicts.GOOD, 1), (verdicts.NO_STAPLE, 3)]
    assert time.monotonic() - started >= 0.4


def test_endpoints_shared_among_processes_give_what_one_process_gives(pki, leaf, serve):
    good = serve(leaf, pki.response(leaf.cert))
    silent = serve(pki.leaf(SERVER_NAME))
    endpoints = [{"host": "127.0.0.1", "port": port, "server_name": SERVER_NAME} for port in (good, silent) * 3]

    alone = staple.check_endpoints(endpoints, processes=1, timeout=5)
    shared = staple.check_endpoints(endpoints, processes=3, timeout=5)

    def judged(entries):
        return [(entry["port"], entry["verdict"], entry["serial_number"]) for entry in entries]
    assert judged(shared) == judged(alone) and [e["verdict"] for e in alone] == ["good", "no_staple"] * 3
