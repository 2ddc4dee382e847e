# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every decision of the stapling plan, for each adapter, from configurations read by the real readers."""
from __future__ import annotations

from typing import Any, Optional

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.apache import config as apache_config
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.nginx import config as nginx_config
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.apache import adapter as plan_apache
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.iis import adapter as plan_iis
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.nginx import adapter as plan_nginx
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import stapling_plan as common
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.stapling_plan import PlanError, stapling_plan

# --- nginx ----------------------------------------------------------------------------------

NGINX_ROLE = {"dropin_path": "/n/conf.d/tlsops-ocsp-stapling.conf", "snippet_path": "/n/tlsops-ocsp/stapling-server.conf",
              "bundle_path": "/n/tlsops-ocsp/trusted-chain.pem",
              "include_line": "include /n/tlsops-ocsp/stapling-server*.conf;"}


def nginx_settings(**overrides: Any) -> dict[str, Any]:
    return {"state": "present", "audit": False, "scope": "auto", "selected": [], "manage_includes": True,
            "verify": True, "resolvers": [], "resolver_timeout": "5s", **NGINX_ROLE, **overrides}


def server(name: str, cert: str, body: str = "") -> str:
    return (f"server {{\n    listen 443 ssl;\n    server_name {name};\n    ssl_certificate {cert};\n"
            f"    ssl_certificate_key /k.pem;\n{body}}}\n")


def nginx_discovery(sites: str, http: str = "", role_files: dict[str, str] | None = None) -> dict[str, Any]:
    """What nginx_config_info returns for a main file including one sites file (and the role's files)."""
    files = {"/n/nginx.conf": f"events {{}}\nhttp {{\n{http}    include /n/conf.d/*.conf;\n    include /n/sites/*;\n}}\n",
             **(role_files or {}), "/n/sites/all": sites}
    dump = "".join(f"# configuration file {path}:\n{text}\n" for path, text in files.items())
    config = nginx_config.load_dump(dump)
    servers = [dict(item.as_dict(), endpoints=nginx_config.server_endpoints(item.as_dict()))
               for item in config.servers]
    return {"main_file": config.main_file, "servers": servers, "dropin_included": True,
            "http_stapling_directives": config.http_stapling_directives, "resolvers": ["10.0.0.53"]}


def leaf(path: str, applicable: bool = True, must_staple: bool = False) -> dict[str, Any]:
    return {"path": path, "stapling_applicable": applicable, "must_staple": must_staple,
            "stapling_reason": "OCSP responder http://ocsp.test" if applicable else "no OCSP responder URL"}


CERTS = [leaf("/a.pem"), leaf("/ms.pem", must_staple=True), leaf("/none.pem", applicable=False)]


def nginx_plan(discovery: dict[str, Any], **settings: Any) -> dict[str, Any]:
    return stapling_plan(discovery, plan_nginx, CERTS, nginx_settings(**settings))


def by_name(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {endpoint["server_name"]: endpoint for endpoint in plan["endpoints"]}


def test_nginx_auto_is_http_with_one_dropin_when_every_certificate_staples():
    plan = nginx_plan(nginx_discovery(server("a.test", "/a.pem") + server("ms.test", "/ms.pem")))
    assert plan["scope"] == "http" and plan["errors"] == [] and plan["include_targets"] == []
    (dropin,) = plan["files"]
    assert dropin["path"] == NGINX_ROLE["dropin_path"]
    assert dropin["content"].splitlines()[2:] == [
        "ssl_stapling on;", "ssl_stapling_verify on;", f"ssl_trusted_certificate {NGINX_ROLE['bundle_path']};",
        "resolver 10.0.0.53;", "resolver_timeout 5s;"]
    assert plan["absent"] == [NGINX_ROLE["snippet_path"]]
    assert plan["bundle"] == {"path": NGINX_ROLE["bundle_path"], "chain_paths": ["/a.pem", "/ms.pem"]}
    assert plan["reload"] == "reload"
    assert {name: (e["must_staple"], e["configured_by"]) for name, e in by_name(plan).items()} == {
        "a.test": (False, "role"), "ms.test": (True, "role")}
    assert plan["checks"] == [{"host": "127.0.0.1", "port": 443, "server_name": "a.test"},
                              {"host": "127.0.0.1", "port": 443, "server_name": "ms.test"}]


def test_nginx_mixed_certificates_mean_server_scope_with_includes_only_where_stapling_applies():
    plan = nginx_plan(nginx_discovery(server("a.test", "/a.pem") + server("none.test", "/none.pem")))
    assert plan["scope"] == "server"
    assert plan["include_targets"] == [{"path": "/n/sites/all", "after_lines": [1]}]
    assert plan["files"][0]["path"] == NGINX_ROLE["snippet_path"]
    endpoints = by_name(plan)
    assert endpoints["none.test"]["configured_by"] is None and not endpoints["none.test"]["stapling_applicable"]
    assert "/n/sites/all:7: no OCSP responder URL" == endpoints["none.test"]["stapling_reason"]
    assert plan["bundle"]["chain_paths"] == ["/a.pem"]


def test_nginx_forced_http_with_a_certificate_without_ocsp_url_is_a_gate():
    plan = nginx_plan(nginx_discovery(server("a.test", "/a.pem") + server("none.test", "/none.pem")), scope="http")
    assert plan["scope"] == "http" and '"ssl_stapling" ignored' in plan["errors"][0]


def test_nginx_forced_server_scope_and_a_one_line_block_gate():
    plan = nginx_plan(nginx_discovery("server { listen 443 ssl; ssl_certificate /a.pem; ssl_certificate_key /k; }\n"),
                      scope="server")
    assert plan["scope"] == "server" and "opens and closes on one line" in plan["errors"][0]


def test_nginx_http_scope_needs_a_dropin_read_at_http_level():
    discovery = dict(nginx_discovery(server("a.test", "/a.pem")), dropin_included=False)
    assert "is not included at http level" in nginx_plan(discovery)["errors"][0]


def test_nginx_user_lines_in_a_server_block_are_left_alone_and_reported():
    mozilla = "    ssl_stapling on;\n    ssl_stapling_verify on;\n    resolver 127.0.0.53;\n"
    plan = nginx_plan(nginx_discovery(server("a.test", "/a.pem", mozilla) + server("ms.test", "/ms.pem")
                                      + server("none.test", "/none.pem", mozilla)))
    endpoints = by_name(plan)
    assert endpoints["a.test"]["configured_by"] == "user" and endpoints["ms.test"]["configured_by"] == "role"
    # the user's server blocks override http level: the role may staple the others from there
    assert plan["scope"] == "http" and plan["include_targets"] == []
    none = endpoints["none.test"]
    assert none["configured_by"] == "user" and "/n/sites/all:21" in none["stapling_reason"]
    assert "remove that line" in none["stapling_reason"] and plan["warnings"] == [none["stapling_reason"]]
    assert plan["bundle"]["chain_paths"] == ["/ms.pem"]


def test_nginx_user_lines_with_mixed_certificates_get_no_include():
    user = "    ssl_stapling on;\n"
    plan = nginx_plan(nginx_discovery(server("a.test", "/a.pem", user) + server("ms.test", "/ms.pem")
                                      + server("none.test", "/none.pem")))
    assert plan["scope"] == "server"
    assert plan["include_targets"] == [{"path": "/n/sites/all", "after_lines": [8]}]


def test_nginx_user_lines_at_http_level_mean_the_role_writes_nothing():
    plan = nginx_plan(nginx_discovery(server("a.test", "/a.pem") + server("none.test", "/none.pem"),
                                      http="    ssl_stapling on;\n    resolver 1.1.1.1;\n"))
    assert plan["scope"] == "none" and plan["files"] == [] and plan["bundle"] is None
    assert {e["configured_by"] for e in plan["endpoints"]} == {"user"}
    assert "/n/nginx.conf:3" in by_name(plan)["a.test"]["stapling_reason"]


def test_nginx_user_resolver_at_http_level_is_not_repeated_in_the_snippet():
    plan = nginx_plan(nginx_discovery(server("a.test", "/a.pem") + server("none.test", "/none.pem"),
                                      http="    resolver 1.1.1.1;\n    ssl_stapling_verify on;\n"))
    content = plan["files"][0]["content"]
    assert "resolver" not in content and "ssl_stapling_verify on;" in content  # server level: no duplicate


def test_nginx_role_lines_found_on_disk_are_the_role_s_and_audit_reports_them():
    snippet = {NGINX_ROLE["snippet_path"]: "ssl_stapling on;\n"}
    include = f"    {NGINX_ROLE['include_line']}\n"
    discovery = nginx_discovery(server("a.test", "/a.pem", include) + server("none.test", "/none.pem"),
                                role_files=snippet)
    audit = nginx_plan(discovery, audit=True)
    assert by_name(audit)["a.test"]["configured_by"] == "role" and by_name(audit)["none.test"]["configured_by"] is None
    removal = nginx_plan(discovery, state="absent")
    assert removal["scope"] == "none" and removal["errors"] == []
    assert sorted(removal["absent"]) == sorted([NGINX_ROLE["dropin_path"], NGINX_ROLE["snippet_path"],
                                               NGINX_ROLE["bundle_path"]])
    assert {e["configured_by"] for e in removal["endpoints"]} == {None}


OVERRIDE = {"url": "http://alive.test/", "first": ["http://dead.test/"], "certificates": ["/a.pem"]}


def test_nginx_asks_the_url_that_answers_where_the_first_is_dead_and_the_diagnosis_knows_it():
    discovery = dict(nginx_discovery(server("a.test", "/a.pem") + server("ms.test", "/ms.pem")),
                     responder_override=OVERRIDE)
    plan = nginx_plan(discovery)
    (dropin,) = plan["files"]
    assert "ssl_stapling_responder http://alive.test/;" in dropin["content"].splitlines()
    assert by_name(plan)["a.test"]["diagnosis"]["responder"] == "http://alive.test/"
    assert "ssl_stapling_responder" not in nginx_plan(dict(discovery, responder_override=None))["files"][0]["content"]
    # the user's own http-level responder: theirs stays, the role writes none
    users = dict(nginx_discovery(server("a.test", "/a.pem") + server("ms.test", "/ms.pem"),
                                 http="    ssl_stapling_responder http://mine.test/;\n"), responder_override=OVERRIDE)
    assert "ssl_stapling_responder" not in nginx_plan(users)["files"][0]["content"]


def test_nginx_author_include_without_managed_includes_counts_as_the_role_s():
    include = f"    {NGINX_ROLE['include_line']}\n"
    discovery = nginx_discovery(server("a.test", "/a.pem", include) + server("b.test", "/ms.pem")
                                + server("none.test", "/none.pem"))
    discovery["files_with_marker"] = ["/n/sites/all"]
    plan = nginx_plan(discovery, manage_includes=False)
    assert plan["scope"] == "server" and plan["include_targets"] == []
    assert plan["exclude_from"] == []  # the author's lines: never taken out
    assert [e["configured_by"] for e in plan["endpoints"]] == ["role", None, None]


def test_nginx_variable_certificates_and_selection():
    discovery = nginx_discovery(server("v.test", "/c/$ssl_server_name.pem") + server("a.test", "/a.pem")
                                + server("none.test", "/none.pem"))
    plan = nginx_plan(discovery, selected=["/a.pem"])
    assert [e["server_name"] for e in plan["endpoints"]] == ["a.test"]
    assert plan["scope"] == "server"  # the choice looks at every server the http level would reach
    variable = by_name(nginx_plan(discovery))["v.test"]
    assert not variable["stapling_applicable"] and "variables" in variable["stapling_reason"]


def test_unknown_scope_names_the_variable():
    with pytest.raises(PlanError, match="nginx_stapling_scope must be one of auto, http, server"):
        nginx_plan(nginx_discovery(server("a.test", "/a.pem")), scope="vhost")


# --- Apache ---------------------------------------------------------------------------------

APACHE_ROLE = {"dropin_path": "/a/conf-available/tlsops-ocsp-stapling.conf",
               "enabled_path": "/a/conf-enabled/tlsops-ocsp-stapling.conf",
               "snippet_path": "/a/tlsops-ocsp-stapling-vhost.conf", "modules_path": "/a/mods-enabled/00-tlsops.conf",
               "state_path": "/a/tlsops-ocsp-stapling.json", "issuers_path": "/a/tlsops-ocsp-issuers.pem",
               "config_dir": "/a", "check_host": "127.0.0.1",
               "include_line": "IncludeOptional /a/tlsops-ocsp-stapling-vhost.conf"}
SERVER_SETTINGS = {"SSLStaplingCache": '"shmcb:tlsops(131072)"', "SSLStaplingResponderTimeout": 5,
                   "SSLStaplingReturnResponderErrors": "off", "SSLStaplingForceURL": ""}


def apache_settings(**overrides: Any) -> dict[str, Any]:
    return {"state": "present", "audit": False, "scope": "auto", "selected": [], "manage_includes": True,
            "module_method": "a2enmod", "server_settings": SERVER_SETTINGS, **APACHE_ROLE, **overrides}


def vhost(name: str, cert: str, body: str = "") -> str:
    return (f"<VirtualHost *:443>\n    ServerName {name}\n    SSLEngine on\n    SSLCertificateFile {cert}\n"
            f"{body}</VirtualHost>\n")


def apache_discovery(sites: list[str], server: str = "", role: str = "",
                     loaded: tuple[str, ...] = ("ssl_module", "socache_shmcb_module")) -> dict[str, Any]:
    """What apache_config_info returns: real readers over files held in memory."""
    files = {"/a/apache2.conf": f"{server}IncludeOptional conf-enabled/*.conf\nInclude sites/*.conf\n",
             "/a/sites/all.conf": "".join(sites)}
    if role:
        files[APACHE_ROLE["enabled_path"]] = role
    lines, dump = 1, "VirtualHost configuration:\n*:443 is a NameVirtualHost\n"
    for text in sites:
        name = text.split("ServerName ")[1].split()[0]
        dump += f"         port 443 namevhost {name} (/a/sites/all.conf:{lines})\n"
        lines += text.count("\n")
    globs = {"/a/conf-enabled/*.conf": [path for path in files if path.startswith("/a/conf-enabled/")],
             "/a/sites/*.conf": ["/a/sites/all.conf"]}
    return {"config_ok": True, "server_root": "/a", "server_root_matches": True, "loaded_modules": list(loaded),
            "recorded_modules": [],
            "vhosts": apache_config.describe_vhosts(dump, files.__getitem__, "/a", {}, APACHE_ROLE["include_line"]),
            "server_directives": apache_config.server_directives("apache2.conf", files.__getitem__, "/a", {},
                                                                 wanted=apache_config.is_stapling_or_ca_store,
                                                                 expand_glob=globs.__getitem__)}


def apache_plan(discovery: dict[str, Any], **settings: Any) -> dict[str, Any]:
    return stapling_plan(discovery, plan_apache, CERTS, apache_settings(**settings))


def test_apache_auto_is_global_when_every_vhost_staples():
    plan = apache_plan(apache_discovery([vhost("a.test", "/a.pem"), vhost("ms.test", "/ms.pem")]))
    assert plan["scope"] == "global" and plan["include_targets"] == [] and plan["errors"] == []
    (dropin,) = [item for item in plan["files"] if item["path"] == APACHE_ROLE["dropin_path"]]
    assert dropin["content"].splitlines()[2:] == [
        'SSLStaplingCache "shmcb:tlsops(131072)"', "SSLStaplingResponderTimeout 5",
        "SSLStaplingReturnResponderErrors off", "SSLUseStapling on"]
    assert APACHE_ROLE["snippet_path"] in plan["absent"] and plan["modules"]["enable"] == []
    assert plan["link"] == {"path": APACHE_ROLE["enabled_path"], "state": "link",
                            "src": "../conf-available/tlsops-ocsp-stapling.conf"}
    assert plan["reload"] == "reload"
    assert [(e["server_name"], e["must_staple"], e["configured_by"]) for e in plan["endpoints"]] == [
        ("a.test", False, "role"), ("ms.test", True, "role")]


def test_apache_mixed_certificates_mean_vhost_scope_and_missing_modules_are_enabled():
    plan = apache_plan(apache_discovery([vhost("a.test", "/a.pem"), vhost("none.test", "/none.pem")],
                                        loaded=("ssl_module",)))
    assert plan["scope"] == "vhost"
    assert plan["include_targets"] == [{"path": "/a/sites/all.conf", "after_lines": [1]}]
    snippet = [item for item in plan["files"] if item["path"] == APACHE_ROLE["snippet_path"]]
    assert snippet[0]["content"].endswith("SSLUseStapling on\n")
    assert plan["modules"] == {"enable": ["socache_shmcb"], "recorded": ["socache_shmcb"], "disable": []}
    state = [item for item in plan["files"] if item["path"] == APACHE_ROLE["state_path"]][0]
    assert '"socache_shmcb"' in state["content"]


ISSUER = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def with_issuer(discovery: dict[str, Any], path: str = "/a.pem") -> dict[str, Any]:
    """Discovery found the issuer that `path` lacks on the host (issuer_lookup)."""
    return dict(discovery, issuers={path: {"pem": ISSUER, "source": "/other.pem", "subject": "CN=I"}})


def issuers_file(plan: dict[str, Any]) -> Optional[str]:
    return next((item["content"] for item in plan["files"] if item["path"] == APACHE_ROLE["issuers_path"]), None)


def test_apache_gets_the_issuer_its_certificate_file_lacks_through_a_server_level_ca_store():
    plan = apache_plan(with_issuer(apache_discovery([vhost("a.test", "/a.pem"), vhost("ms.test", "/ms.pem")])))
    assert ISSUER.strip() in issuers_file(plan)
    (dropin,) = [item for item in plan["files"] if item["path"] == APACHE_ROLE["dropin_path"]]
    assert f"SSLCACertificateFile {APACHE_ROLE['issuers_path']}" in dropin["content"].splitlines()
    hint = by_name(plan)["a.test"]["diagnosis"]
    assert hint["issuer_files"] == [APACHE_ROLE["issuers_path"]]  # where the diagnosis looks, as mod_ssl does
    # nothing missing: no file, no line; and state absent removes it
    assert issuers_file(apache_plan(apache_discovery([vhost("a.test", "/a.pem")]))) is None
    assert APACHE_ROLE["issuers_path"] in apache_plan(with_issuer(apache_discovery([vhost("a.test", "/a.pem")])),
                                                      state="absent")["absent"]


@pytest.mark.parametrize("sites, server", [
    # the user's own stapling lines: their fix (the cause names the file)
    ([vhost("a.test", "/a.pem", "    SSLUseStapling on\n")], ""),
    # a server-level CA store of the user's: the role's would replace it
    ([vhost("a.test", "/a.pem")], "SSLCACertificateFile /etc/ssl/clients.pem\n"),
    # a virtual host that verifies clients without a store of its own would trust the issuer for clients
    ([vhost("a.test", "/a.pem"), vhost("ms.test", "/ms.pem", "    SSLVerifyClient require\n")], ""),
    # a store of its own: it would not inherit the role's
    ([vhost("a.test", "/a.pem", "    SSLCACertificatePath /etc/ssl/ca\n")], ""),
])
def test_apache_issuers_are_not_given_where_they_would_change_more_than_stapling(sites, server):
    plan = apache_plan(with_issuer(apache_discovery(sites, server=server)))
    assert issuers_file(plan) is None
    assert not any("SSLCACertificateFile /a/" in item["content"] for item in plan["files"])


def test_apache_forces_the_url_that_answers_unless_a_force_url_is_set():
    discovery = dict(apache_discovery([vhost("a.test", "/a.pem"), vhost("ms.test", "/ms.pem")]),
                     responder_override=OVERRIDE)

    def dropin(plan: dict[str, Any]) -> list[str]:
        return next(item["content"] for item in plan["files"] if item["path"] == APACHE_ROLE["dropin_path"]).splitlines()
    plan = apache_plan(discovery)
    assert "SSLStaplingForceURL http://alive.test/" in dropin(plan)
    assert by_name(plan)["a.test"]["diagnosis"]["responder"] == "http://alive.test/"
    chosen = apache_plan(discovery, server_settings=dict(SERVER_SETTINGS, SSLStaplingForceURL="http://chosen.test/"))
    assert "SSLStaplingForceURL http://chosen.test/" in dropin(chosen)  # apache_stapling_force_url wins
    users = dict(apache_discovery([vhost("a.test", "/a.pem")], server="SSLStaplingForceURL http://mine.test/\n"),
                 responder_override=OVERRIDE)
    plan = apache_plan(users)
    assert not any(line.startswith("SSLStaplingForceURL") for line in dropin(plan))
    assert by_name(plan)["a.test"]["diagnosis"]["responder"] == "http://mine.test/"


def test_apache_forced_global_with_a_certificate_without_ocsp_url_is_a_gate():
    plan = apache_plan(apache_discovery([vhost("a.test", "/a.pem"), vhost("none.test", "/none.pem")]), scope="global")
    assert "AH02218" in plan["errors"][0] and "/a/sites/all.conf:6" in plan["errors"][0]


def test_apache_user_lines_in_a_vhost_and_a_user_cache_in_server_config():
    user = "    SSLUseStapling On\n"
    plan = apache_plan(apache_discovery([vhost("a.test", "/a.pem", user), vhost("ms.test", "/ms.pem"),
                                         vhost("none.test", "/none.pem", user)],
                                        server='SSLStaplingCache "shmcb:/run/ocsp(32768)"\n'))
    endpoints = by_name(plan)
    assert endpoints["a.test"]["configured_by"] == "user" and endpoints["ms.test"]["configured_by"] == "role"
    assert endpoints["none.test"]["configured_by"] == "user" and "remove that line" in endpoints["none.test"][
        "stapling_reason"]
    assert plan["scope"] == "global"
    dropin = plan["files"][0]["content"]
    assert "SSLStaplingCache" not in dropin and "SSLUseStapling on" in dropin  # the user's cache serves


def test_apache_user_use_stapling_in_server_config_leaves_nothing_to_the_role():
    plan = apache_plan(apache_discovery([vhost("a.test", "/a.pem"), vhost("none.test", "/none.pem", "SSLUseStapling off\n")],
                                        server="SSLUseStapling on\nSSLStaplingCache shmcb:/x(1)\n"))
    assert plan["scope"] == "none" and APACHE_ROLE["dropin_path"] in plan["absent"]
    assert [e["configured_by"] for e in plan["endpoints"]] == ["user", "user"]
    assert "turned off by your own directive" in by_name(plan)["none.test"]["stapling_reason"]


def test_apache_changing_or_removing_the_role_s_cache_takes_a_full_restart():
    role = 'SSLStaplingCache "shmcb:tlsops(131072)"\nSSLUseStapling on\n'
    sites = [vhost("a.test", "/a.pem")]
    assert apache_plan(apache_discovery(sites, role=role))["reload"] == "reload"
    bigger = dict(SERVER_SETTINGS, SSLStaplingCache='"shmcb:tlsops(262144)"')
    assert apache_plan(apache_discovery(sites, role=role), server_settings=bigger)["reload"] == "restart"
    removal = apache_plan(apache_discovery(sites, role=role), state="absent")
    assert removal["reload"] == "restart" and removal["link"]["state"] == "absent"
    audit = apache_plan(apache_discovery(sites, role=role), audit=True)
    assert audit["endpoints"][0]["configured_by"] == "role"


def test_apache_gates_a_broken_configuration_and_another_server_root():
    broken = {"config_ok": False, "config_messages": "AH00526: Syntax error"}
    assert "AH00526" in apache_plan(broken)["errors"][0]
    elsewhere = dict(apache_discovery([vhost("a.test", "/a.pem")]), server_root_matches=False)
    assert "apache_stapling_config_dir" in apache_plan(elsewhere)["errors"][0]


def test_apache_loadmodule_method_writes_load_lines_instead_of_a2enmod():
    plan = apache_plan(apache_discovery([vhost("a.test", "/a.pem")], loaded=()), module_method="loadmodule",
                       enabled_path="")
    modules = [item for item in plan["files"] if item["path"] == APACHE_ROLE["modules_path"]][0]
    assert "LoadModule socache_shmcb_module modules/mod_socache_shmcb.so" in modules["content"]
    assert plan["modules"]["enable"] == [] and plan["link"] is None


def test_must_staple_is_known_from_the_certificate_for_the_enforce_gate():
    for plan in (nginx_plan(nginx_discovery(server("ms.test", "/ms.pem"))),
                 apache_plan(apache_discovery([vhost("ms.test", "/ms.pem")]))):
        assert plan["endpoints"][0]["must_staple"] is True


# --- shared pieces --------------------------------------------------------------------------


@pytest.mark.parametrize("settings, expected", [
    ({"reload_method": "auto", "service_mgr": "systemd", "private": False}, "service"),
    ({"reload_method": "auto", "service_mgr": "systemd", "private": "True"}, "signal"),  # as Jinja may pass it
    ({"reload_method": "auto", "service_mgr": "sysvinit", "private": False}, "signal"),
    ({"reload_method": "service", "service_mgr": "", "private": True}, "service"),
])
def test_reload_method_uses_the_service_manager_only_for_the_system_instance(settings, expected):
    assert common.reload_method(settings, "signal") == expected


def test_snapshot_and_exclusions_cover_every_path_the_run_may_change():
    discovery = nginx_discovery(server("a.test", "/a.pem") + server("none.test", "/none.pem"))
    discovery["files_with_marker"] = ["/n/sites/all", "/n/sites/old"]
    plan = nginx_plan(discovery)
    assert plan["exclude_from"] == ["/n/sites/old"]
    assert set(plan["snapshot"]) >= {NGINX_ROLE["dropin_path"], NGINX_ROLE["snippet_path"], NGINX_ROLE["bundle_path"],
                                     "/n/tlsops-ocsp", "/n/sites/all", "/n/sites/old"}
    assert plan["directory"] == {"path": "/n/tlsops-ocsp", "state": "directory"}


# --- IIS ------------------------------------------------------------------------------------


def iis_binding(information: str, flags: int) -> dict[str, Any]:
    return {"site": "Default Web Site", "binding_information": information, "ssl_flags": flags,
            "certificate_hash": "AB12", "certificate_store": "My"}


def test_iis_bindings_are_decoded_from_sslflags_bits_and_the_value_is_needed_only_for_sni_or_ccs():
    settings = {"state": "present", "audit": False, "scope": "auto", "selected": [], "manage_includes": False,
                "include_line": "", "check_address": "203.0.113.5"}
    plain = stapling_plan({"bindings": [iis_binding("*:443:", 0)]}, plan_iis, [], settings)
    assert plain["value_needed"] is False
    assert plain["bindings"][0]["endpoint"] == {"host": "203.0.113.5", "port": 443, "server_name": None}
    assert plain["bindings"][0]["certificate_path"] == "Cert:\\LocalMachine\\My\\AB12"
    plan = stapling_plan({"bindings": [iis_binding("[::1]:8443:a.test", 1 | 8), iis_binding("*:443:b.test", 2)]},
                         plan_iis, [], settings)
    sni, central = plan["bindings"]
    assert (sni["ip"], sni["port"], sni["sni"], sni["stapling_disabled"], sni["central_certificate_store"]) == (
        "[::1]", 8443, True, True, False)
    assert central["central_certificate_store"] and central["certificate_path"] == "CentralCertStore:\\b.test.pfx"
    assert plan["value_needed"] is True
    assert plan["sites"][0]["configured_by"] == "user"  # DisableOCSPStp is the user's own "off"
