# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""audit_parts: the slices' parts merged into the report's inputs, as if one audit had run."""
from __future__ import annotations

import json
import re

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_parts
from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_report as report
from tests.support.audit_entries import NOW, entry


def part(name, hosts, endpoints=(), without=(), not_audited=()):
    inputs = {"endpoints": list(endpoints), "hosts_without_servers": list(without),
              "not_audited": list(not_audited), "targeted": list(hosts)}
    return audit_parts.load(audit_parts.render(name, "2026-12-05T10:00:00Z", inputs), name)


def outside_row(port):
    return entry("outside", port, "lb.example.test", server_kind="outside", checked_from="outside")


def test_parts_merge_into_what_one_audit_gives_and_a_host_in_two_slices_is_counted_once_and_named():
    one = part("a", ["web1", "web2"], [entry("web1", 443, "one.test"), entry("web2", 443, "two.test"),
                                       outside_row(8443)])
    two = part("b", ["web2", "web3", "ghost"], [entry("web2", 443, "two.test"), entry("web3", 443, "three.test"),
                                                outside_row(8443)],
               not_audited=[{"host": "ghost", "state": "unreachable", "reason": "no route"}])
    three = part("c", ["web4"], without=["web4"])

    merged, twice = audit_parts.merge([three, two, one])

    assert [(row["inventory_host"], row["port"]) for row in merged["endpoints"]] == [
        ("web1", 443), ("web2", 443), ("outside", 8443), ("web3", 443)]  # web2 and the outside one once
    assert merged["targeted"] == ["web1", "web2", "web3", "ghost", "web4"]
    assert (merged["hosts_without_servers"], [i["host"] for i in merged["not_audited"]]) == (["web4"], ["ghost"])
    assert twice == [{"host": "web2", "parts": ["a", "b"]}]
    data = report.build(merged["endpoints"], merged["hosts_without_servers"], now=NOW,
                        not_audited=merged["not_audited"], targeted=merged["targeted"] + ["web5"],
                        counted_twice=twice)
    assert data["coverage"]["audited"] == ["web1", "web2", "web3", "web4"]
    states = [(item["host"], item["state"]) for item in data["coverage"]["not_audited"]]
    assert states == [("web5", "not_run"), ("ghost", "unreachable")]
    assert "its slice wrote no part" in data["coverage"]["not_audited"][0]["reason"]
    assert report.coverage_line(data["coverage"]["counted_twice"][0]) == (
        "web2 was audited by 2 slices (a, b) and is counted once, from the first: give each host to one slice")
    assert report.summary_line(data).startswith("6 hosts (1 unreachable, 1 not run, 1 counted twice), 4 endpoints")


def test_the_same_hosts_name_the_same_part():
    inputs = {"endpoints": [entry("web2", 443, "x")], "hosts_without_servers": [], "not_audited": [],
              "targeted": ["web1", "web2"]}
    shuffled = dict(inputs, targeted=["web2", "web1"])
    assert audit_parts.default_name(inputs) == audit_parts.default_name(shuffled)
    assert audit_parts.default_name(inputs) != audit_parts.default_name(dict(inputs, targeted=["web1", "web3"]))


@pytest.mark.parametrize("text, words", [
    ("{", "is not JSON"),
    (json.dumps({"format": "something else"}), "is not an audit part (tlsops.ocsp audit part 1)"),
    (json.dumps({"format": audit_parts.FORMAT, "endpoints": {}}), "is not an audit part"),
])
def test_a_file_that_is_no_part_is_named_with_what_to_do(text, words):
    with pytest.raises(audit_parts.PartError, match="^/r/ocsp-audit.part-x.json %s.*run its slice again" % re.escape(words)):
        audit_parts.load(text, "/r/ocsp-audit.part-x.json")
