# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nginx reader against crossplane (nginx's own parser library) and real `nginx -T`."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.nginx.config import (
    NginxConfigError,
    load_dump,
    parse,
    resolvers,
    server_endpoints,
    sni_name,
    split_dump,
)

try:
    import crossplane
except ImportError:  # only the newest venv carries it; the reader itself runs everywhere
    crossplane = None

needs_crossplane = pytest.mark.skipif(crossplane is None, reason="crossplane is not installed")

REPRESENTATIVE = {
    "quotes_and_escapes": r"""
http {
    log_format main '$remote_addr "$request" \'x\'';
    server { listen 443 ssl; server_name "ex ample" a\ b;  # trailing comment
      location ~ ^/(a|b)\{2\}$ { return 200 "x\"y;z"; }
      add_header X-A "a#b"; add_header X-B a#b;
      ssl_certificate "/p/a b.pem";
    }
}
""",
    "variables_and_maps": r"""
http { map $http_host $name { default "a b"; ~^(?<x>.+)$ ${x}y; hostnames; }
  server { if ($a = "b") { return 404; } set $v "${name}-1"; } }
""",
    "directive_split_over_lines": """
events {}
http
{
server
{
listen
  8443
  ssl ;
ssl_certificate
   /etc/a.pem;
}
}
""",
    "debian_default_shape": """
user www-data;
worker_processes auto;
pid /run/nginx.pid;
include /etc/nginx/modules-enabled/*.conf;
events { worker_connections 768; }
http {
\tsendfile on;
\tssl_protocols TLSv1.2 TLSv1.3; # Dropping SSLv3
\tinclude /etc/nginx/conf.d/*.conf;
\tinclude /etc/nginx/sites-enabled/*;
}
#mail {
#\tserver { listen localhost:110; }
#}
""",
}


def _comparable(directives: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Our tree in crossplane's form: crossplane strips the parentheses of `if`."""
    out = []
    for directive in directives:
        item = {key: directive[key] for key in ("directive", "line", "args")}
        if item["directive"] == "if" and item["args"]:
            args = list(item["args"])
            args[0] = args[0][1:] if args[0].startswith("(") else args[0]
            args = args[:-1] if args[-1] == ")" else args
            item["args"] = [arg for arg in args if arg]
        if "block" in directive:
            item["block"] = _comparable(directive["block"])
        out.append(item)
    return out


def _crossplane_file(path: Path) -> list[dict[str, Any]]:
    payload = crossplane.parse(str(path), single=True, comments=False, check_ctx=False, check_args=False)
    assert payload["errors"] == []
    return payload["config"][0]["parsed"]


@needs_crossplane
@pytest.mark.parametrize("name", sorted(REPRESENTATIVE))
def test_same_tree_as_crossplane(tmp_path, name):
    path = tmp_path / "nginx.conf"
    path.write_text(REPRESENTATIVE[name])
    assert _comparable(parse(REPRESENTATIVE[name], str(path))) == _crossplane_file(path)


def test_where_crossplane_differs_we_follow_nginx():
    # nginx unescapes \\ \t \n in every word and keeps "}" inside a word (ngx_conf_read_token)
    directive = parse(r'a "x\\y" z\tq w};')[0]
    assert directive["args"] == ["x\\y", "z\tq", "w}"]


@pytest.mark.parametrize("text, message", [
    ("http { server { listen 443; }", "expecting \"}\""),
    ("listen 443", "expecting \";\""),
    ("a b; }", "unexpected \"}\""),
    ('a "b"c;', "after a quoted word"),
    ('a "b;', "expecting \""),
    ("; a;", "unexpected \";\""),
])
def test_errors_name_file_and_problem(text, message):
    with pytest.raises(NginxConfigError, match=message) as error:
        parse(text, "site.conf")
    assert "site.conf" in str(error.value)


def test_block_lines_are_recorded():
    server = parse("http {\n server\n {\n listen 1;\n }\n}\n")[0]["block"][0]
    assert (server["line"], server["block_line"], server["block_end_line"]) == (2, 3, 5)


def test_split_dump_keeps_each_file_exactly():
    dump = "# configuration file /a.conf:\nx;\n\n# configuration file /b.conf:\ny;\n"
    assert split_dump(dump) == {"/a.conf": "x;\n", "/b.conf": "y;"}


# --- real nginx -T on a private tree ------------------------------------------------

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _write_tree(root: Path) -> Path:
    (root / "conf.d").mkdir()
    (root / "sites").mkdir()
    (root / "snippets").mkdir()
    (root / "nginx.conf").write_text(f"""
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{}}
http {{
    access_log off;
    ssl_certificate certs/default.pem;
    ssl_certificate_key certs/default.key;
    include conf.d/*.conf;
    include {root}/sites/*;
}}
""")
    (root / "conf.d" / "a.conf").write_text("ssl_session_timeout 5m;\n")
    (root / "sites" / "b").write_text("""server { listen 127.0.0.1:1 ssl;
    server_name b.test "b2.test";
    ssl_certificate_key certs/b.key;
    include snippets/cert.conf;
}
server {
    listen 127.0.0.1:2;
}
""")
    (root / "sites" / "c").write_text("""
server
{
    listen [::1]:3 ssl http2;
    ssl_certificate_key certs/c.key;
    include snippets/cert.conf;
}
""")
    (root / "snippets" / "cert.conf").write_text("ssl_certificate certs/shared.pem;\n")
    return root / "nginx.conf"


def _crossplane_servers(main: Path) -> Iterator[tuple[str, int]]:
    configs = crossplane.parse(str(main), comments=False, check_ctx=False, check_args=False)["config"]

    def walk(file: str, block: list[dict[str, Any]], in_http: bool) -> Iterator[tuple[str, int]]:
        for stmt in block:
            for index in stmt.get("includes", []):
                yield from walk(configs[index]["file"], configs[index]["parsed"], in_http)
            if stmt["directive"] == "http":
                yield from walk(file, stmt["block"], True)
            elif stmt["directive"] == "server" and in_http:
                yield file, stmt["line"]

    return walk(configs[0]["file"], configs[0]["parsed"], False)


def _nginx_dump(root: Path) -> tuple[Path, str]:
    """A private tree with real (throwaway) certificates, read by the real `nginx -T`."""
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed")
    main = _write_tree(root)
    (root / "certs").mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-subj", "/CN=t", "-days", "1", "-keyout", str(root / "certs/default.key"),
                    "-out", str(root / "certs/default.pem")], capture_output=True, check=True)
    for name in ("b.key", "c.key"):
        shutil.copy(root / "certs/default.key", root / "certs" / name)
    shutil.copy(root / "certs/default.pem", root / "certs/shared.pem")
    completed = subprocess.run([NGINX, "-p", str(root), "-c", str(main), "-T", "-q"],
                               capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    return main, completed.stdout


@needs_crossplane
def test_servers_match_crossplane_following_includes(tmp_path):
    main, dump = _nginx_dump(tmp_path)
    config = load_dump(dump)
    assert [(server.file, server.line) for server in config.servers] == list(_crossplane_servers(main))
    for path, directives in config.files.items():
        assert _comparable(directives) == _crossplane_file(Path(path))


def test_servers_certificates_listens_and_includes(tmp_path):
    config = load_dump(_nginx_dump(tmp_path)[1])
    b_tls, b_plain, c_tls = config.servers
    assert b_tls.ssl and not b_plain.ssl and c_tls.ssl
    assert b_tls.server_names == ["b.test", "b2.test"]
    assert b_tls.certificates == [str(tmp_path / "certs/shared.pem")]
    assert b_plain.certificates == [str(tmp_path / "certs/default.pem")]  # inherited from http
    assert c_tls.listens == [["[::1]:3", "ssl", "http2"]]
    assert (c_tls.line, c_tls.block_line, c_tls.block_end_line) == (2, 3, 7)
    assert b_tls.includes == ["snippets/cert.conf"]
    assert config.http_is_including(str(tmp_path / "conf.d/tlsops.conf"))
    assert not config.http_is_including(str(tmp_path / "conf.d/sub/tlsops.conf"))
    assert not config.http_is_including(str(tmp_path / "snippets/x.conf"))


@needs_crossplane
def test_every_dumped_file_is_read_like_crossplane_reads_it(tmp_path):
    main, dump = _nginx_dump(tmp_path)
    config = load_dump(dump)
    assert config.main_file == str(main)
    assert len(config.files) == 5
    for path, directives in config.files.items():
        assert _comparable(directives) == _crossplane_file(Path(path))


# --- endpoints, plan and report ---------------------------------------------------------


def _server(file: str = "/s.conf", line: int = 1, names: tuple = ("a.test",), listens: tuple = (("443", "ssl"),),
            certificates: tuple = ("/a.pem",), block_end_line: int = 9) -> dict[str, Any]:
    server = {"file": file, "line": line, "block_line": line, "block_end_line": block_end_line,
              "listens": [list(args) for args in listens], "server_names": list(names), "ssl": True, "ssl_on": False,
              "certificates": list(certificates), "includes": [], "stapling_directives": []}
    server["endpoints"] = server_endpoints(server)
    return server


def _facts(path: str, applicable: bool = True, must_staple: bool = False) -> dict[str, Any]:
    return {"path": path, "index": 0, "stapling_applicable": applicable, "must_staple": must_staple,
            "stapling_reason": "ok" if applicable else f"{path} has no OCSP responder URL"}


@pytest.mark.parametrize("listen, expected", [
    (["443", "ssl"], ("127.0.0.1", 443)),
    (["*:8443", "ssl"], ("127.0.0.1", 8443)),
    (["0.0.0.0:443", "ssl"], ("127.0.0.1", 443)),
    (["10.1.2.3:443", "ssl"], ("10.1.2.3", 443)),
    (["[::]:443", "ssl"], ("::1", 443)),
    (["[2001:db8::1]:443", "ssl"], ("2001:db8::1", 443)),
    (["localhost", "ssl"], ("localhost", 80)),
])
def test_listen_to_endpoint(listen, expected):
    endpoint = server_endpoints(_server(listens=(tuple(listen),)))[0]
    assert (endpoint["host"], endpoint["port"]) == expected


def test_endpoints_skip_plain_listens_unix_sockets_and_the_v6_twin_of_a_v4_wildcard():
    server = _server(listens=(("80",), ("443", "ssl"), ("[::]:443", "ssl"), ("unix:/run/x.sock", "ssl")))
    assert server_endpoints(server) == [{"host": "127.0.0.1", "port": 443, "server_name": "a.test"}]


def test_ssl_on_makes_every_listen_tls():
    server = dict(_server(listens=(("8443",),)), ssl_on=True)
    assert server_endpoints(server) == [{"host": "127.0.0.1", "port": 8443, "server_name": "a.test"}]


@pytest.mark.parametrize("names, expected", [
    (["_", "*.a.test", "~^x$", "b.test"], "b.test"),
    (["", ".a.test"], None),
])
def test_sni_is_the_first_literal_name(names, expected):
    assert sni_name(names) == expected


def test_resolvers_from_resolv_conf():
    text = "# c\nnameserver 10.0.0.1\nnameserver  2001:db8::53 # v6\nnameserver fe80::1%eth0\nsearch x\n"
    assert resolvers(text) == ["10.0.0.1", "[2001:db8::53]"]
