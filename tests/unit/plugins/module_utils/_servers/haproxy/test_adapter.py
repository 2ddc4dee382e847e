# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plan_haproxy through the shared stapling plan: mode by version, stanza, crt-lists, endpoints, who configured."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import config as haproxy_config
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import adapter as plan_haproxy
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.stapling_plan import stapling_plan

SETTINGS = {"state": "present", "audit": False, "scope": "certificate", "selected": [], "manage_includes": True,
            "reload_method": "auto", "private": False, "check_host": "127.0.0.1", "socket_path": "/run/haproxy/tlsops-ocsp.sock", "refresher": "auto",
            "service_mgr": "systemd", "library_dir": "/usr/local/lib/tlsops-ocsp-haproxy", "renew_before": 1800,
            "file_mode": "0644", "timeout": 10.0, "config_files": ["/etc/haproxy/haproxy.cfg"]}
CRT_LIST = "# sites\nsite.pem www.example.test\napi.pem [alpn h2] api.example.test\nold.pem [ocsp-update off] old.test\n" \
           "nourl.pem nourl.test\n"


def facts(path: str, applicable: bool = True, must_staple: bool = False, names: Optional[List[str]] = None):
    return [{"path": path, "is_ca": False, "not_before": "2026-11-01T00:00:00Z", "stapling_applicable": applicable, "must_staple": must_staple,
             "stapling_reason": "OCSP responder http://ocsp.test" if applicable else "no OCSP responder URL",
             "subject_alt_names": ["DNS:%s" % name for name in names or ["default.example.test"]]},
            {"path": path, "is_ca": True, "stapling_applicable": False, "stapling_reason": "a CA"}]


def model(version: str, text: str = CRT_LIST, admin_socket: Optional[str] = None,
          ocsp_update_mode: Optional[str] = None) -> Dict[str, Any]:
    discovered = haproxy_config.parse([("/etc/haproxy/haproxy.cfg", (
        "global\n    crt-base /certs\n%s%s"
        "frontend https\n    bind *:443 ssl crt default.pem crt-list /etc/haproxy/list\n") % (
        "    stats socket %s level admin\n" % admin_socket if admin_socket else "",
        "    ocsp-update.mode %s\n" % ocsp_update_mode if ocsp_update_mode else ""))])
    bind = discovered["binds"][0]
    entries = [{"path": "/certs/default.pem", "addresses": bind["addresses"], "sni_filters": [], "crt_list": None,
                "ocsp_update": None, "bind_file": "/etc/haproxy/haproxy.cfg", "bind_line": 4}]
    for entry in haproxy_config.parse_crt_list(text, "/etc/haproxy/list"):
        entries.append({"path": "/certs/" + entry["crt"], "addresses": bind["addresses"],
                        "sni_filters": entry["filters"], "crt_list": "/etc/haproxy/list",
                        "ocsp_update": entry["ocsp_update"], "bind_file": "/etc/haproxy/haproxy.cfg",
                        "bind_line": 4})
    return dict(discovered, version=version, certificates=entries, crt_lists={"/etc/haproxy/list": text},
                admin_socket=haproxy_config.admin_socket(discovered))


def plan(discovery: Dict[str, Any], certificates: List[Dict[str, Any]], settings: Dict[str, Any]) -> Dict[str, Any]:
    return stapling_plan(discovery, plan_haproxy, certificates, settings)


CERTIFICATES = (facts("/certs/default.pem") + facts("/certs/site.pem") + facts("/certs/api.pem")
                + facts("/certs/old.pem") + facts("/certs/nourl.pem", applicable=False, must_staple=True))


def test_before_2_8_every_stapleable_certificate_is_refreshed_through_the_roles_socket():
    result = plan(model("2.6"), CERTIFICATES, SETTINGS)
    assert result["mode"] == "refresher" and result["refresher"] == "systemd" and result["errors"] == []
    assert result["reload_method"] == "service" and result["include_targets"] == []
    # old.pem: the user's crt-list says ocsp-update off, which the role leaves as written
    assert result["refresh"] == ["/certs/default.pem", "/certs/site.pem", "/certs/api.pem"]
    assert result["stanza"]["lines"] == ["stats socket /run/haproxy/tlsops-ocsp.sock mode 600 level admin"]
    assert result["crt_lists"] == {}
    assert result["refresher_settings"]["socket"] == "/run/haproxy/tlsops-ocsp.sock"
    assert result["library_files"][0]["dest"].endswith("ansible_collections/tlsops/ocsp/plugins/module_utils/_engine/compat.py")


def test_the_users_admin_socket_is_used_and_no_stanza_added():
    result = plan(model("2.6", admin_socket="/run/haproxy/admin.sock"), CERTIFICATES,
                  dict(SETTINGS, service_mgr="sysvinit"))
    assert result["stanza"] == {"path": "/run/haproxy/admin.sock", "lines": [], "owned": False}
    assert result["refresher"] == "cron" and result["reload_method"] == "signal"


def test_2_8_turns_on_ocsp_update_in_the_crt_list_and_refreshes_only_the_bind_crt():
    result = plan(model("2.8"), CERTIFICATES, SETTINGS)
    assert result["crt_lists"] == {"/etc/haproxy/list": (
        "# sites\nsite.pem [ocsp-update on] www.example.test\napi.pem [ocsp-update on alpn h2] api.example.test\n"
        "old.pem [ocsp-update off] old.test\nnourl.pem nourl.test\n")}
    assert result["refresh"] == ["/certs/default.pem"]
    assert result["mode"] == "refresher"  # the bind's own crt still needs the refresher
    configured = {endpoint["certificate_path"]: endpoint["configured_by"] for endpoint in result["endpoints"]}
    assert configured["/certs/old.pem"] == "user" and configured["/certs/site.pem"] == "role"
    assert configured["/certs/nourl.pem"] is None


def test_2_8_with_everything_in_crt_lists_needs_no_refresher_nor_socket():
    result = plan(dict(model("2.9"), certificates=model("2.9")["certificates"][1:]), CERTIFICATES, SETTINGS)
    assert result["mode"] == "native" and result["refresher"] == "none" and result["stanza"]["lines"] == []


def test_3_x_uses_the_global_updater_and_leaves_crt_lists_alone():
    result = plan(model("3.0"), CERTIFICATES, SETTINGS)
    assert result["mode"] == "native" and result["refresh"] == [] and result["crt_lists"] == {}
    assert result["stanza"]["lines"] == ["ocsp-update.mode on"]
    assert plan(model("3.1", ocsp_update_mode="off"), CERTIFICATES, SETTINGS)["stanza"]["lines"] == []


def test_endpoints_use_sni_filters_then_certificate_names_and_report_must_staple_without_url():
    result = plan(model("2.6"), CERTIFICATES, SETTINGS)
    assert [(check["host"], check["port"], check["server_name"]) for check in result["checks"]] == [
        ("127.0.0.1", 443, "default.example.test"), ("127.0.0.1", 443, "www.example.test"),
        ("127.0.0.1", 443, "api.example.test"), ("127.0.0.1", 443, "old.test"), ("127.0.0.1", 443, "nourl.test")]
    nourl = result["endpoints"][-1]
    assert nourl["stapling_applicable"] is False and nourl["must_staple"] is True
    assert nourl["not_before"] == "2026-11-01T00:00:00Z"


def test_absent_removes_what_the_role_keeps_fresh_and_its_stanza():
    result = plan(model("2.6"), CERTIFICATES, dict(SETTINGS, state="absent"))
    assert result["scope"] == "none" and len(result["refresh"]) == 3
    assert {endpoint["configured_by"] for endpoint in result["endpoints"]
            if endpoint["certificate_path"] != "/certs/old.pem"} == {None}


def test_audit_says_the_role_configured_certificates_with_an_ocsp_file():
    discovered = model("2.6")
    discovered["certificates"][1]["ocsp_exists"] = True
    discovered["certificates"][1]["ocsp_path"] = "/certs/site.pem.ocsp"
    result = plan(discovered, CERTIFICATES, dict(SETTINGS, audit=True))
    configured = {endpoint["certificate_path"]: endpoint["configured_by"] for endpoint in result["endpoints"]}
    assert configured["/certs/site.pem"] == "role" and configured["/certs/default.pem"] is None


def test_selected_certificates_only():
    result = plan(model("2.6"), CERTIFICATES, dict(SETTINGS, selected=["/certs/api.pem"]))
    assert result["refresh"] == ["/certs/api.pem"] and [e["server_name"] for e in result["checks"]] == ["api.example.test"]


@pytest.mark.parametrize("addresses, expected", [
    ([":443"], ("127.0.0.1", 443)),
    (["[::]:8443"], ("127.0.0.1", 8443)),
    (["ipv4@10.0.0.1:443"], ("10.0.0.1", 443)),
    (["unix@/run/x.sock", "192.0.2.1:4443"], ("192.0.2.1", 4443)),
    (["127.0.0.1:1000-1005"], ("127.0.0.1", 1000)),
    (["/run/only.sock"], None),
])
def test_endpoint_address(addresses, expected):
    assert plan_haproxy.endpoint_address(addresses, "127.0.0.1") == expected


def test_wildcard_filters_get_a_concrete_name():
    assert plan_haproxy.server_name({"sni_filters": ["!x.test", "*.example.test"]}, None) == "www.example.test"


def test_version_tuple_reads_strings_and_lists():
    assert plan_haproxy.version_tuple("2.6.12-1+deb12u4") == (2, 6)
    assert plan_haproxy.version_tuple([3, 0]) == (3, 0)


def test_the_refreshers_copy_holds_every_module_it_imports():
    # the refresher runs on the host from a copy of these files alone: a missing one is an ImportError there
    module_utils = Path(plan_haproxy.__file__).resolve().parents[2]
    imported = re.compile(r"^from ansible_collections\.tlsops\.ocsp\.plugins\.module_utils\.([\w.]+) import ([\w, (]+)",
                          re.MULTILINE)
    copied = set(plan_haproxy.ENGINE_MODULES)
    for path in copied:
        for package, names in imported.findall((module_utils / path).read_text(encoding="utf-8")):
            base = package.replace(".", "/")
            candidates = ["%s.py" % base] + ["%s/%s.py" % (base, name.strip("( ")) for name in names.split(",")]
            assert any(candidate in copied for candidate in candidates), (path, package, names)


# --- who fetches from 2.8: HAProxy's own updater or the role's refresher (haproxy_stapling_updater) ----------

REFUSED = {"status": "OCSP response check failure", "ok": False, "rejected": True, "row": "..."}
STAPLED = {"status": "Update successful", "ok": True, "rejected": False, "row": "..."}
HTTP_ERROR = {"status": "HTTP error", "ok": False, "rejected": False, "row": "..."}
STAPLEABLE = ["/certs/default.pem", "/certs/site.pem", "/certs/api.pem"]


def tried(version: str, verdicts: Dict[str, Dict[str, Any]], **extra: Any) -> Dict[str, Any]:
    return dict(model(version), updater_trial=verdicts, **extra)


def test_3_x_auto_keeps_the_native_updater_where_haproxy_staples_with_it():
    result = plan(tried("3.0", {path: STAPLED for path in STAPLEABLE}), CERTIFICATES, dict(SETTINGS, updater="auto"))
    assert result["mode"] == "native" and result["refresh"] == [] and result["refresher_reasons"] == {}
    assert result["stanza"]["lines"] == ["ocsp-update.mode on"]
    assert not any("note" in endpoint for endpoint in result["endpoints"])


def test_3_x_auto_hands_every_certificate_to_the_refresher_when_haproxy_refuses_one_answer():
    verdicts = dict({path: STAPLED for path in STAPLEABLE}, **{"/certs/site.pem": REFUSED})
    result = plan(tried("3.0", verdicts), CERTIFICATES, dict(SETTINGS, updater="auto"))
    assert result["mode"] == "refresher" and result["refresh"] == STAPLEABLE and result["refresher"] == "systemd"
    # no global updater: HAProxy 3 has one switch for them all
    assert "ocsp-update.mode on" not in result["stanza"]["lines"]
    assert result["refresher_reasons"]["/certs/site.pem"] == \
        "HAProxy's own updater refused the responder's answer (OCSP response check failure)"
    assert "HAProxy 3 turns its updater on for every certificate or none" in result["refresher_reasons"]["/certs/default.pem"]
    notes = {endpoint["certificate_path"]: endpoint.get("note") for endpoint in result["endpoints"]}
    assert notes["/certs/site.pem"].startswith("the role's refresher keeps its staple fresh: HAProxy's own updater refused")
    assert notes["/certs/old.pem"] is None  # the user's [ocsp-update off]: not the role's to fetch


def test_auto_does_not_blame_haproxy_for_a_responder_that_does_not_answer():
    verdicts = {path: HTTP_ERROR for path in STAPLEABLE}
    assert plan(tried("3.0", verdicts), CERTIFICATES, dict(SETTINGS, updater="auto"))["mode"] == "native"


def test_auto_keeps_the_refresher_when_haproxy_could_not_be_tried_and_says_why():
    result = plan(tried("3.0", {}, updater_trial_error="a throwaway HAProxy ... exited (1)"), CERTIFICATES,
                  dict(SETTINGS, updater="auto"))
    assert result["refresh"] == STAPLEABLE
    assert "could not be tried on this host (a throwaway HAProxy ... exited (1))" in \
        result["refresher_reasons"]["/certs/api.pem"]


@pytest.mark.parametrize("updater, refresh", [("native", []), ("refresher", STAPLEABLE)])
def test_native_and_refresher_are_what_the_user_chose_whatever_the_trial_says(updater, refresh):
    result = plan(tried("3.0", {path: REFUSED for path in STAPLEABLE}), CERTIFICATES, dict(SETTINGS, updater=updater))
    assert result["refresh"] == refresh
    assert ("ocsp-update.mode on" in result["stanza"]["lines"]) is (updater == "native")


def test_2_8_auto_decides_per_crt_list_line():
    verdicts = {"/certs/default.pem": STAPLED, "/certs/site.pem": REFUSED, "/certs/api.pem": STAPLED}
    result = plan(tried("2.8", verdicts), CERTIFICATES, dict(SETTINGS, updater="auto"))
    # api.pem gets [ocsp-update on]; site.pem stays with the refresher, as does the bind's own crt
    assert result["crt_lists"]["/etc/haproxy/list"].splitlines()[1:3] == [
        "site.pem www.example.test", "api.pem [ocsp-update on alpn h2] api.example.test"]
    assert result["refresh"] == ["/certs/default.pem", "/certs/site.pem"]
    assert result["refresher_reasons"] == {
        "/certs/default.pem": "HAProxy 2.8 updates only crt-list entries",
        "/certs/site.pem": "HAProxy's own updater refused the responder's answer (OCSP response check failure)"}
