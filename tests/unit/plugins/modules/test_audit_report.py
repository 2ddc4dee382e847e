# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""audit_report, run in-process: the files it writes, the previous run kept, check mode, errors."""
from __future__ import annotations

import datetime
import json
import stat

import pytest

from tests.conftest import free_port
from tests.support import audit_entries
from tests.unit.conftest import SERVER_NAME

pytest.importorskip("ansible.module_utils.basic", reason="the modules run on ansible-core")

from ansible_collections.tlsops.ocsp.plugins.modules import audit_report  # noqa: E402
from ansible_collections.tlsops.ocsp.plugins.modules.audit_report import main  # noqa: E402

NAMES = ["ocsp-audit.json", "ocsp-audit.md", "ocsp-audit.html", "ocsp-audit.prom"]


def realistic():
    """The small fleet, dated from now: the module judges at the current time."""
    return audit_entries.realistic(datetime.datetime.now(datetime.timezone.utc))


def test_writes_four_files_and_metrics_where_asked(run_module, tmp_path):
    result = run_module(main, endpoints=realistic(), dest=str(tmp_path / "report"),
                        metrics_dest=str(tmp_path / "textfile"))
    assert result["changed"] and not result.get("failed")
    assert result["files"] == [str(tmp_path / "report" / name) for name in NAMES[:3]] + [
        str(tmp_path / "textfile" / "ocsp-audit.prom")]
    for path in result["files"]:
        assert stat.S_IMODE((tmp_path / path).stat().st_mode) == 0o644
    assert result["summary"]["critical"] == 2 and len(result["critical"]) == 2
    assert result["since_last"] is None
    assert (tmp_path / "textfile" / "ocsp-audit.prom").read_text().endswith("# EOF\n")


def test_second_run_keeps_the_previous_json_and_says_what_changed(run_module, tmp_path):
    first = realistic()
    run_module(main, endpoints=first, dest=str(tmp_path))
    first_json = (tmp_path / "ocsp-audit.json").read_text()
    fixed = [dict(e, verdict="good", stapled=True, revocation_status="good", revocation_source="staple")
             if e["server_name"] == "shop.example.test" else e for e in first]
    result = run_module(main, endpoints=fixed, dest=str(tmp_path))
    assert (tmp_path / "ocsp-audit.previous.json").read_text() == first_json
    assert result["since_last"]["fixed"] == 1 and result["since_last"]["new"] == 0
    report = json.loads((tmp_path / "ocsp-audit.json").read_text())
    assert [i["server_name"] for i in report["since_last"]["fixed"]] == ["shop.example.test"]


def test_unreadable_previous_report_is_a_warning_not_a_failure(run_module, tmp_path):
    (tmp_path / "ocsp-audit.json").write_text("{not json")
    result = run_module(main, endpoints=realistic(), dest=str(tmp_path))
    assert not result.get("failed") and result["since_last"] is None
    assert json.loads((tmp_path / "ocsp-audit.json").read_text())["summary"]["endpoints"] == 7


def test_check_mode_writes_nothing(run_module, tmp_path):
    result = run_module(main, check_mode=True, endpoints=realistic(), dest=str(tmp_path / "r"))
    assert not result["changed"] and not (tmp_path / "r").exists()
    assert result["summary"]["endpoints"] == 7


def test_unwritable_dest_names_it_and_the_option(run_module, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_module(main, endpoints=[], dest=str(blocker / "report"))
    assert result["failed"] and str(blocker / "report") in result["msg"] and "dest" in result["msg"]


def test_endpoints_checked_from_outside_join_the_report_marked_outside(run_module, tmp_path, good_port, leaf):
    pytest.importorskip("OpenSSL", reason="the outside checks need pyOpenSSL")
    closed = free_port()
    result = run_module(main, endpoints=[audit_entries.entry("web1", 443, "www.example.test")],
                        outside_endpoints=["127.0.0.1:%d/%s" % (good_port, SERVER_NAME),
                                           {"host": "127.0.0.1", "port": closed, "name": "lb2"}],
                        outside_timeout=5, dest=str(tmp_path))

    assert result["summary"]["endpoints"] == 3 and result["summary"]["outside_endpoints"] == 2
    assert result["summary"]["hosts"] == 1  # web1: the endpoints checked from outside are no host's
    rows = {row["port"]: row for row in json.loads((tmp_path / "ocsp-audit.json").read_text())["endpoints"]}
    good, down = rows[good_port], rows[closed]
    assert (good["server_name"], good["verdict"], good["serial_number"]) == (SERVER_NAME, "good",
                                                                             leaf.cert.serial_number)
    assert (good["revocation_status"], good["revocation_source"]) == ("good", "staple")
    assert good["inventory_host"] == "outside"
    assert (good["checked_from"], good["server_kind"]) == ("outside", "outside")
    assert (down["verdict"], down["inventory_host"], down["revocation_status"]) == ("unreachable", "lb2", None)
    assert 'host="lb2",server="outside"' in (tmp_path / "ocsp-audit.prom").read_text()


def test_every_outside_endpoint_that_cannot_be_read_is_named_and_none_is_checked(run_module, tmp_path):
    pytest.importorskip("OpenSSL", reason="the outside checks need pyOpenSSL")
    result = run_module(main, outside_endpoints=["lb1.example.com:70000", "fine.example.com", {"port": 443},
                                                 {"host": "x.example.com", "sni": "y"}, 5],
                        outside_timeout=0, dest=str(tmp_path))

    assert result["failed"]
    assert result["problems"] == [
        "outside_endpoints[0]: 'lb1.example.com:70000': '70000' is not a TCP port; give a port from 1 to 65535",
        "outside_endpoints[2]: give a string host[:port][/server_name] or a dictionary with host",
        "outside_endpoints[3]: unknown keys sni; a dictionary takes host, port, server_name, name",
        "outside_endpoints[4]: give a string host[:port][/server_name] or a dictionary with host",
        "outside_timeout: 0.0 is not allowed; give a number of seconds above 0",
    ]
    assert result["msg"].startswith("nothing was checked from outside; fix these 5 problems: outside_endpoints[0]: ")
    assert not (tmp_path / "ocsp-audit.json").exists()


def test_slices_write_parts_and_one_merge_writes_the_report_of_all_and_removes_them(run_module, tmp_path):
    first = run_module(main, endpoints=[audit_entries.entry("web1", 443, "one.test")], targeted=["web1"],
                       part="auto", dest=str(tmp_path))
    second = run_module(main, endpoints=[audit_entries.entry("web2", 443, "two.test", verdict="revoked")],
                        targeted=["web2"], part="slice-2", dest=str(tmp_path))

    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [first["files"][0].rsplit("/", 1)[1], "ocsp-audit.part-slice-2.json"])  # parts only: no report yet
    assert second["critical"] and second["summary"]["hosts"] == 1  # each slice judges its own hosts

    merged = run_module(main, merge_parts=True, targeted=["web1", "web2", "web3"], dest=str(tmp_path))

    assert sorted(merged["merged_parts"]) == sorted([first["files"][0], second["files"][0]])
    assert not any(path.name.startswith("ocsp-audit.part-") for path in tmp_path.iterdir())
    data = json.loads((tmp_path / "ocsp-audit.json").read_text())
    assert sorted(row["inventory_host"] for row in data["endpoints"]) == ["web1", "web2"]
    assert data["coverage"]["audited"] == ["web1", "web2"]
    assert [(item["host"], item["state"]) for item in data["coverage"]["not_audited"]] == [("web3", "not_run")]
    assert (tmp_path / "ocsp-audit.prom").exists() and len(merged["critical"]) == 2


def test_a_part_name_that_cannot_name_a_file_is_refused(run_module, tmp_path):
    result = run_module(main, endpoints=[], part="../x", dest=str(tmp_path))
    assert result["failed"] and result["msg"].startswith("part: '../x' cannot name a file")
    assert list(tmp_path.iterdir()) == []


def test_check_mode_merges_nothing_away(run_module, tmp_path):
    run_module(main, endpoints=[audit_entries.entry("web1", 443, "one.test")], targeted=["web1"], part="a",
               dest=str(tmp_path))
    checked = run_module(main, check_mode=True, merge_parts=True, dest=str(tmp_path))
    assert checked["summary"]["endpoints"] == 1
    assert [path.name for path in tmp_path.iterdir()] == ["ocsp-audit.part-a.json"]


def test_a_run_writes_a_part_or_merges_never_both(run_module, tmp_path):
    result = run_module(main, part="a", merge_parts=True, dest=str(tmp_path))
    assert result["failed"] and result["msg"].startswith("part and merge_parts: a run either writes")


def test_a_part_that_cannot_be_read_fails_the_merge_before_anything_is_checked_from_outside(run_module, tmp_path,
                                                                                            monkeypatch):
    def never(*_args, **_kwargs):
        raise AssertionError("an endpoint was checked from outside before the parts were read")

    monkeypatch.setattr(audit_report.stapling_check, "check_outside", never)
    (tmp_path / "ocsp-audit.part-a.json").write_text("{not json")
    result = run_module(main, merge_parts=True, outside_endpoints=["lb1.example.test"], dest=str(tmp_path))
    assert result["failed"] and result["msg"].startswith("merge_parts: ")
    assert "ocsp-audit.part-a.json" in result["msg"]
