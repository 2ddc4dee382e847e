# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""haproxy_config: words, binds, crt files and directories, crt-lists, stats sockets, the role's stanza."""
from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import config as haproxy_config

CONFIG = """\
global
    # BEGIN tlsops.ocsp haproxy_stapling: admin socket (managed)
    stats socket /run/haproxy/tlsops-ocsp.sock mode 600 level admin
    # END tlsops.ocsp haproxy_stapling: admin socket (managed)
    stats socket /run/haproxy/user.sock mode 660 level operator
    stats socket ipv4@127.0.0.1:9999 level admin
    crt-base {base}

defaults
    mode http

frontend https # a comment
    bind :443,[::]:443 ssl crt site.pem crt {base}/dir crt-list {crt_list} alpn h2
    bind 127.0.0.1:80
    default_backend app

backend app
    server app1 127.0.0.1:8080
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    base = tmp_path / "certs"
    (base / "dir").mkdir(parents=True)
    for name in ("site.pem", "dir/a.pem", "dir/a.pem.ocsp", "dir/a.pem.issuer", "dir/b.pem", "dir/b.key",
                 "listed.pem", "other.pem"):
        (base / name).write_text("x")
    crt_list = tmp_path / "crt-list.txt"
    crt_list.write_text("# comment\n\nlisted.pem [alpn h2 ocsp-update on] www.example.test !bad.example.test\n"
                        "other.pem *.example.test\n")
    (tmp_path / "haproxy.cfg").write_text(CONFIG.format(base=base, crt_list=crt_list))
    return tmp_path


@pytest.mark.parametrize("line, words", [
    ("bind :443 ssl crt a.pem", ["bind", ":443", "ssl", "crt", "a.pem"]),
    ('http-request return string "a b" # c', ["http-request", "return", "string", "a b"]),
    ("crt 'x y'.pem\\ z", ["crt", "x y.pem z"]),
    ("  # only a comment", []),
    ("a\\#b #c", ["a#b"]),
])
def test_split_words_as_haproxy(line, words):
    assert haproxy_config.split_words(line) == words


def test_unterminated_quote_names_file_and_line():
    with pytest.raises(haproxy_config.HaproxyConfigError, match="f.cfg line 3: unterminated"):
        haproxy_config.split_words('bind "x', "f.cfg", 3)


def test_discover_reads_crt_files_directories_and_crt_lists(tree: Path):
    model = haproxy_config.discover([str(tree / "haproxy.cfg")])
    base = tree / "certs"
    paths = [entry["path"] for entry in model["certificates"]]
    assert paths == [str(base / "site.pem"), str(base / "dir/a.pem"), str(base / "dir/b.pem"),
                     str(base / "listed.pem"), str(base / "other.pem")]
    by_path = {entry["path"]: entry for entry in model["certificates"]}
    assert by_path[str(base / "dir/a.pem")]["ocsp_exists"] is True
    assert by_path[str(base / "dir/a.pem")]["issuer_path"] == str(base / "dir/a.pem.issuer")
    assert by_path[str(base / "listed.pem")]["sni_filters"] == ["www.example.test", "!bad.example.test"]
    assert by_path[str(base / "listed.pem")]["ocsp_update"] == "on"
    assert by_path[str(base / "site.pem")]["addresses"] == [":443", "[::]:443"]
    assert [bind["ssl"] for bind in model["binds"]] == [True, False]


def test_stats_sockets_levels_and_the_roles_stanza_kept_apart(tree: Path):
    model = haproxy_config.discover([str(tree / "haproxy.cfg")])
    assert [(entry["path"], entry["level"]) for entry in model["stats_sockets"]] == [
        ("/run/haproxy/user.sock", "operator"), (None, "admin")]
    assert model["admin_socket"] is None  # the TCP one cannot be used, the role's own is not the user's
    assert model["role_stanza"][0]["words"][:3] == ["stats", "socket", "/run/haproxy/tlsops-ocsp.sock"]


def test_default_stats_socket_level_is_operator():
    model = haproxy_config.parse([("c", "global\n    stats socket /s\n")])
    assert model["stats_sockets"][0]["level"] == "operator" and haproxy_config.admin_socket(model) is None


def test_config_directory_reads_cfg_files_in_order(tmp_path: Path):
    (tmp_path / "b.cfg").write_text("frontend f\n    bind :1 ssl crt /b.pem\n")
    (tmp_path / "a.cfg").write_text("global\n    stats socket /a level admin\n")
    (tmp_path / "notes.txt").write_text("frontend x\n")
    assert haproxy_config.config_files([str(tmp_path)]) == [str(tmp_path / "a.cfg"), str(tmp_path / "b.cfg")]
    model = haproxy_config.discover([str(tmp_path)])
    assert model["admin_socket"] == "/a"
    assert [entry["path"] for entry in model["certificates"]] == ["/b.pem"]


def test_unreadable_crt_list_names_the_file(tmp_path: Path):
    (tmp_path / "h.cfg").write_text("frontend f\n    bind :1 ssl crt-list /nonexistent/list\n")
    with pytest.raises(haproxy_config.HaproxyConfigError, match="/nonexistent/list: cannot be read"):
        haproxy_config.discover([str(tmp_path / "h.cfg")])


@pytest.mark.parametrize("text, version", [
    ("HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/", (2, 6)),
    ("HAProxy version 3.0.5-1 2024/09/19", (3, 0)),
    ("nothing", None),
])
def test_parse_version(text, version):
    assert haproxy_config.parse_version(text) == version


# --- HAProxy 3.0: crt-store sections, their load lines, and the global updater settings ---------------------

CRT_STORE_CONFIG = """global
    crt-base /etc/haproxy/certs
    ocsp-update.mode off
    ocsp-update.mindelay 300
    httpclient.resolvers.prefer ipv4
    issuers-chain-path /etc/haproxy/issuers
crt-store web
    crt-base /srv/web
    load crt "site1.pem" ocsp "site1.ocsp" alias "site1" ocsp-update on
    load crt api.pem ocsp-update off
crt-store
    load crt shared.pem alias shared
frontend https
    bind :443 ssl crt "@web/site1" crt @/shared crt-list /etc/haproxy/list
"""


def crt_store_model(tmp_path, config: str = CRT_STORE_CONFIG, crt_list: str = "@web/api.pem api.example.test\n"):
    files = {"/etc/haproxy/haproxy.cfg": config, "/etc/haproxy/list": crt_list}
    return haproxy_config.discover(["/etc/haproxy/haproxy.cfg"], reader=files.__getitem__)


def test_crt_store_references_serve_the_loaded_files_with_their_updater_switch_and_ocsp_file(tmp_path):
    model = crt_store_model(tmp_path)
    served = {entry["path"]: entry for entry in model["certificates"]}
    assert sorted(served) == ["/etc/haproxy/certs/shared.pem", "/srv/web/api.pem", "/srv/web/site1.pem"]
    site = served["/srv/web/site1.pem"]
    assert (site["ocsp_update"], site["crt_store"], site["alias"]) == ("on", "web", "site1")
    assert site["ocsp_path"] == "/srv/web/site1.ocsp"  # below the store's crt-base, as HAProxy 3.0 opens it
    api = served["/srv/web/api.pem"]
    assert (api["ocsp_update"], api["crt_list"], api["sni_filters"]) == ("off", "/etc/haproxy/list", ["api.example.test"])
    shared = served["/etc/haproxy/certs/shared.pem"]  # the unnamed store, the global crt-base
    assert (shared["ocsp_update"], shared["crt_store"], shared["ocsp_path"]) == (
        None, "", "/etc/haproxy/certs/shared.pem.ocsp")


def test_the_global_updater_settings_are_kept_as_written(tmp_path):
    model = crt_store_model(tmp_path)
    assert model["ocsp_update_mode"] == "off"
    assert model["updater_settings"] == {"ocsp-update.mindelay": "300", "httpclient.resolvers.prefer": "ipv4"}
    assert model["issuers_chain_path"] == "/etc/haproxy/issuers"


@pytest.mark.parametrize("reference, where", [
    ('bind :443 ssl crt "@web/nosuch"', "/etc/haproxy/haproxy.cfg line 14"),
    ("bind :443 ssl crt @nostore/site1", "/etc/haproxy/haproxy.cfg line 14"),
])
def test_a_reference_no_crt_store_loaded_is_refused_with_file_and_line(tmp_path, reference, where):
    config = CRT_STORE_CONFIG.replace('bind :443 ssl crt "@web/site1" crt @/shared crt-list /etc/haproxy/list',
                                      reference)
    with pytest.raises(haproxy_config.HaproxyConfigError, match=where + ": @"):
        crt_store_model(tmp_path, config)


def test_a_crt_list_line_naming_an_unknown_alias_is_refused_at_its_line(tmp_path):
    with pytest.raises(haproxy_config.HaproxyConfigError, match="/etc/haproxy/list line 2: @web/gone"):
        crt_store_model(tmp_path, crt_list="@web/site1\n@web/gone\n")


def test_a_load_line_without_crt_is_refused():
    with pytest.raises(haproxy_config.HaproxyConfigError, match="line 2: `load` without `crt <file>`"):
        haproxy_config.parse([("/h.cfg", "crt-store web\n    load alias x\n")])
