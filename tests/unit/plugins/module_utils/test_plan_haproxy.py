# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plan_haproxy: every HAProxy decision (mode by version, stanza, crt-list rendering, endpoints, gates)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils import haproxy_config, plan_haproxy

SETTINGS = {"check_host": "127.0.0.1", "socket_path": "/run/haproxy/tlsops-ocsp.sock", "refresher": "auto",
            "service_mgr": "systemd", "library_dir": "/usr/local/lib/tlsops-ocsp-haproxy", "renew_before": 1800,
            "file_mode": "0644", "timeout": 10.0}
CRT_LIST = "# sites\nsite.pem www.example.test\napi.pem [alpn h2] api.example.test\nold.pem [ocsp-update off] old.test\n" \
           "nourl.pem nourl.test\n"


def facts(path: str, applicable: bool = True, must_staple: bool = False, names: Optional[List[str]] = None):
    return [{"path": path, "is_ca": False, "stapling_applicable": applicable, "must_staple": must_staple,
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
                "ocsp_update": None}]
    for entry in haproxy_config.parse_crt_list(text, "/etc/haproxy/list"):
        entries.append({"path": "/certs/" + entry["crt"], "addresses": bind["addresses"],
                        "sni_filters": entry["filters"], "crt_list": "/etc/haproxy/list",
                        "ocsp_update": entry["ocsp_update"]})
    return dict(discovered, version=version, certificates=entries, crt_lists={"/etc/haproxy/list": text},
                admin_socket=haproxy_config.admin_socket(discovered))


CERTIFICATES = (facts("/certs/default.pem") + facts("/certs/site.pem") + facts("/certs/api.pem")
                + facts("/certs/old.pem") + facts("/certs/nourl.pem", applicable=False, must_staple=True))


def test_before_2_8_every_stapleable_certificate_is_refreshed_through_the_roles_socket():
    plan = plan_haproxy.plan(model("2.6"), CERTIFICATES, SETTINGS)
    assert plan["mode"] == "refresher" and plan["refresher"] == "systemd"
    assert plan["refresh"] == ["/certs/default.pem", "/certs/site.pem", "/certs/api.pem", "/certs/old.pem"]
    assert plan["stanza"]["lines"] == ["stats socket /run/haproxy/tlsops-ocsp.sock mode 600 level admin"]
    assert plan["crt_lists"] == {}
    assert plan["refresher_settings"]["socket"] == "/run/haproxy/tlsops-ocsp.sock"
    assert plan["library_files"][0]["dest"].endswith("ansible_collections/tlsops/ocsp/plugins/module_utils/_compat.py")


def test_the_users_admin_socket_is_used_and_no_stanza_added():
    plan = plan_haproxy.plan(model("2.6", admin_socket="/run/haproxy/admin.sock"), CERTIFICATES,
                             dict(SETTINGS, service_mgr="sysvinit"))
    assert plan["stanza"] == {"path": "/run/haproxy/admin.sock", "lines": [], "owned": False}
    assert plan["refresher"] == "cron"


def test_2_8_turns_on_ocsp_update_in_the_crt_list_and_refreshes_only_the_bind_crt():
    plan = plan_haproxy.plan(model("2.8"), CERTIFICATES, SETTINGS)
    assert plan["crt_lists"] == {"/etc/haproxy/list": (
        "# sites\nsite.pem [ocsp-update on] www.example.test\napi.pem [ocsp-update on alpn h2] api.example.test\n"
        "old.pem [ocsp-update off] old.test\nnourl.pem nourl.test\n")}
    assert plan["refresh"] == ["/certs/default.pem"]
    assert plan["mode"] == "refresher"  # the bind's own crt still needs the refresher


def test_2_8_with_everything_in_crt_lists_needs_no_refresher_nor_socket():
    plan = plan_haproxy.plan(dict(model("2.9"), certificates=model("2.9")["certificates"][1:]), CERTIFICATES,
                             SETTINGS)
    assert plan["mode"] == "native" and plan["refresher"] == "none" and plan["stanza"]["lines"] == []


def test_3_x_uses_the_global_updater_and_leaves_crt_lists_alone():
    plan = plan_haproxy.plan(model("3.0"), CERTIFICATES, SETTINGS)
    assert plan["mode"] == "native" and plan["refresh"] == [] and plan["crt_lists"] == {}
    assert plan["stanza"]["lines"] == ["ocsp-update.mode on"]
    assert plan_haproxy.plan(model("3.1", ocsp_update_mode="off"), CERTIFICATES, SETTINGS)["stanza"]["lines"] == []


def test_endpoints_use_sni_filters_then_certificate_names_and_gate_must_staple_without_url():
    plan = plan_haproxy.plan(model("2.6"), CERTIFICATES, SETTINGS)
    assert [(check["host"], check["port"], check["server_name"]) for check in plan["checks"]] == [
        ("127.0.0.1", 443, "default.example.test"), ("127.0.0.1", 443, "www.example.test"),
        ("127.0.0.1", 443, "api.example.test"), ("127.0.0.1", 443, "old.test"), ("127.0.0.1", 443, "nourl.test")]
    nourl = plan["endpoints"][-1]
    assert nourl["stapling_applicable"] is False and nourl["must_staple"] is True
    assert plan["gates"] and "/certs/nourl.pem carries Must-Staple" in plan["gates"][0]


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
