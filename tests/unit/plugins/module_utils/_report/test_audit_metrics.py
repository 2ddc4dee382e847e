# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ocsp-audit.prom: parsed back with prometheus_client (OpenMetrics and the Prometheus text format
node_exporter's textfile collector reads) and, where installed, checked by promtool."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_report as report
from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_metrics
from tests.support import audit_entries

openmetrics = pytest.importorskip("prometheus_client.openmetrics.parser")
text_format = pytest.importorskip("prometheus_client.parser")

ENDPOINT_FAMILIES = {
    "tlsops_ocsp_endpoint_verdict": None, "tlsops_ocsp_endpoint_severity": None,
    "tlsops_ocsp_endpoint_stapled": None, "tlsops_ocsp_staple_remaining_seconds": "seconds",
    "tlsops_ocsp_staple_next_update_timestamp_seconds": "seconds",
    "tlsops_ocsp_certificate_expiry_timestamp_seconds": "seconds",
    "tlsops_ocsp_certificate_must_staple": None, "tlsops_ocsp_revocation_status": None,
}


def families(text: str) -> dict:
    return {family.name: family for family in openmetrics.text_string_to_metric_families(text)}


@pytest.fixture(scope="module")
def synthetic():
    data = report.build(audit_entries.synthetic(), now=audit_entries.NOW)
    return data, audit_metrics.render_metrics(data)


def test_openmetrics_parser_reads_every_family_with_type_and_unit(synthetic):
    _data, text = synthetic
    assert text.endswith("# EOF\n")
    parsed = families(text)
    assert {name: family.unit or None for name, family in parsed.items() if name in ENDPOINT_FAMILIES} \
        == ENDPOINT_FAMILIES
    assert all(family.type == "gauge" and family.documentation for family in parsed.values())
    assert set(parsed) - set(ENDPOINT_FAMILIES) == {
        "tlsops_ocsp_audit_timestamp_seconds", "tlsops_ocsp_audit_endpoints", "tlsops_ocsp_audit_hosts",
        "tlsops_ocsp_hosts"}


def test_one_series_per_endpoint_and_counts_per_severity(synthetic):
    data, text = synthetic
    parsed = families(text)
    verdict = parsed["tlsops_ocsp_endpoint_verdict"].samples
    assert len(verdict) == 1000 and all(sample.value == 1 for sample in verdict)
    assert sum(1 for s in verdict if s.labels["verdict"] == "revoked") == data["summary"]["by_verdict"]["revoked"]
    stapled = sum(1 for row in data["endpoints"] if row["stapled"])
    assert len(parsed["tlsops_ocsp_staple_remaining_seconds"].samples) == stapled
    assert sum(s.value for s in parsed["tlsops_ocsp_endpoint_stapled"].samples) == stapled
    counts = {s.labels["severity"]: s.value for s in parsed["tlsops_ocsp_audit_endpoints"].samples}
    assert counts == {key: audit_entries.SYNTHETIC_COUNTS[key] for key in ("critical", "warning", "ok")}
    assert parsed["tlsops_ocsp_audit_hosts"].samples[0].value == 250
    assert {s.labels["state"]: s.value for s in parsed["tlsops_ocsp_hosts"].samples} == {
        "audited": 250, "unreachable": 0, "failed": 0, "not_run": 0, "unreadable_servers": 0}
    assert parsed["tlsops_ocsp_audit_timestamp_seconds"].samples[0].value == audit_entries.NOW.timestamp()
    sources = {(s.labels["status"], s.labels["source"]) for s in parsed["tlsops_ocsp_revocation_status"].samples}
    assert sources == {("good", "staple"), ("revoked", "staple"), ("good", "crl"), ("revoked", "crl"),
                       ("none", "none")}


def test_labels_of_an_endpoint():
    entry = audit_entries.entry("web1", 443, "www.example.test", must_staple=True)
    parsed = families(audit_metrics.render_metrics(report.build([entry], now=audit_entries.NOW)))
    sample = parsed["tlsops_ocsp_certificate_must_staple"].samples[0]
    assert sample.labels == {"host": "web1", "server": "nginx", "endpoint": "192.0.2.193:443",
                             "server_name": "www.example.test"}
    assert sample.value == 1
    expiry = parsed["tlsops_ocsp_certificate_expiry_timestamp_seconds"].samples[0].value
    assert expiry == report.lifetime.parse_time(entry["not_after"]).timestamp()


def test_hostile_label_values_round_trip_in_both_formats():
    name = 'a"b\\c\nd} x="1"'
    text = audit_metrics.render_metrics(report.build(
        [audit_entries.entry("web1", 443, name)], now=audit_entries.NOW))
    assert families(text)["tlsops_ocsp_endpoint_verdict"].samples[0].labels["server_name"] == name
    legacy = {f.name: f for f in text_format.text_string_to_metric_families(text)}
    assert legacy["tlsops_ocsp_endpoint_verdict"].samples[0].labels["server_name"] == name


def test_duplicate_label_sets_keep_the_worst_row():
    # two certificates on one endpoint (RSA and ECDSA) share the labels: the worst one is exported
    good = audit_entries.entry("web1", 443, "www.example.test")
    revoked = audit_entries.entry("web1", 443, "www.example.test", "revoked")
    parsed = families(audit_metrics.render_metrics(report.build([good, revoked], now=audit_entries.NOW)))
    assert [s.labels["verdict"] for s in parsed["tlsops_ocsp_endpoint_verdict"].samples] == ["revoked"]


def test_prometheus_text_format_reads_it_too(synthetic):
    """node_exporter's textfile collector parses the Prometheus text format, not OpenMetrics."""
    _data, text = synthetic
    legacy = {f.name: f for f in text_format.text_string_to_metric_families(text)}
    assert len(legacy["tlsops_ocsp_endpoint_verdict"].samples) == 1000


def test_empty_audit_is_still_a_valid_file():
    text = audit_metrics.render_metrics(report.build([], now=audit_entries.NOW))
    assert families(text)["tlsops_ocsp_audit_hosts"].samples[0].value == 0


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool (Debian package prometheus) is not installed")
def test_promtool_check_metrics(synthetic):
    _data, text = synthetic
    checked = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True,
                             timeout=60, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
