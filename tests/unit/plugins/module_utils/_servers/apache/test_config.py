# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.apache.config import (
    ApacheConfigError,
    describe_vhosts,
    expand_variables,
    parse_loaded_modules,
    parse_run_config,
    parse_version,
    parse_vhost_dump,
    read_block,
    split_address,
    split_arguments,
)

# What Apache 2.4 prints for `apachectl -S`: a named-vhost group, a single vhost, IPv6.
DUMP = """\
VirtualHost configuration:
127.0.0.1:8443         is a NameVirtualHost
         default server plain.test (/srv/sites/lab.conf:1)
         port 8443 namevhost plain.test (/srv/sites/lab.conf:1)
         port 8443 namevhost nourl.test (/srv/sites/lab.conf:12)
                 alias www.nourl.test
*:443                  wild.test (/srv/sites/wild.conf:3)
[::1]:443              six.test (/srv/sites/wild.conf:3)
*:80                   plain.test (/srv/sites/http.conf:1)
ServerRoot: "/srv"
"""

LAB = """\
<VirtualHost 127.0.0.1:8443>
    ServerName https://plain.test:8443
    SSLEngine on
    # SSLCertificateFile /old.pem
    SSLCertificateFile "certs/plain with space.pem"
    SSLCertificateChainFile ${CERTS}/chain.pem
    <IfModule mod_headers.c>
        Header set X-Test "a \\"quoted\\" value"
    </IfModule>
    SSLCertificateKeyFile /srv/keys/plain.key
</VirtualHost>
<VirtualHost 127.0.0.1:8443>
    ServerName nourl.test
    SSLEngine on
    SSLCertificateFile \\
        /srv/certs/nourl.pem
    SSLUseStapling off
</VirtualHost>
"""

WILD = """\
# a site with one block on two addresses

<VirtualHost *:443 [::1]:443>
  SSLEngine optional
  SSLCertificateFile /srv/certs/wild.pem
  Include /srv/tlsops-ocsp-stapling-vhost.conf
</VirtualHost>
"""

HTTP = "<VirtualHost *:80>\n    ServerName plain.test\n</VirtualHost>\n"

FILES = {"/srv/sites/lab.conf": LAB, "/srv/sites/wild.conf": WILD, "/srv/sites/http.conf": HTTP}


def _vhosts(include_line: str = "Include /srv/tlsops-ocsp-stapling-vhost.conf") -> list:
    return describe_vhosts(DUMP, FILES.__getitem__, "/srv", {"CERTS": "/etc/certs"}, include_line)


def _leaf(path: str, applicable: bool, must_staple: bool = False) -> dict:
    return {"path": path, "stapling_applicable": applicable, "must_staple": must_staple,
            "stapling_reason": "OCSP responder http://ocsp.test" if applicable else "no OCSP responder URL"}


CERTIFICATES = [
    _leaf("/srv/certs/plain with space.pem", True, must_staple=True),
    _leaf("/srv/certs/plain with space.pem", False),  # the intermediate after the leaf: not what is served
    _leaf("/srv/certs/nourl.pem", False),
    _leaf("/srv/certs/wild.pem", True),
]


def test_dump_names_every_address_of_every_block_and_skips_default_server_lines():
    locations = parse_vhost_dump(DUMP)
    assert [(loc.address, loc.server_name, loc.path, loc.line) for loc in locations] == [
        ("127.0.0.1:8443", "plain.test", "/srv/sites/lab.conf", 1),
        ("127.0.0.1:8443", "nourl.test", "/srv/sites/lab.conf", 12),
        ("*:443", "wild.test", "/srv/sites/wild.conf", 3),
        ("[::1]:443", "six.test", "/srv/sites/wild.conf", 3),
        ("*:80", "plain.test", "/srv/sites/http.conf", 1),
    ]


def test_vhost_facts_as_apache_reads_them():
    plain, nourl, wild, http = _vhosts()
    assert plain["server_name"] == "plain.test"  # scheme and port stripped
    assert plain["certificate_file"] == "/srv/certs/plain with space.pem"  # quoted, relative to ServerRoot
    assert plain["chain_file"] == "/etc/certs/chain.pem"  # ${CERTS} expanded
    assert plain["host"] == "127.0.0.1" and plain["port"] == 8443 and plain["ssl_engine"] == "on"
    assert nourl["certificate_file"] == "/srv/certs/nourl.pem"  # continuation line joined
    assert nourl["stapling_directives"] == [
        {"name": "sslusestapling", "args": ["off"], "file": "/srv/sites/lab.conf", "line": 17}]
    assert wild["addresses"] == ["*:443", "[::1]:443"] and wild["host"] is None
    assert wild["include_present"] and not plain["include_present"]
    assert http["certificate_file"] is None


def test_a_line_that_is_no_longer_a_vhost_opening_is_an_error_naming_the_file():
    with pytest.raises(ApacheConfigError, match=r"/srv/sites/lab.conf:2: .*not"):
        read_block(LAB, 2, "/srv/sites/lab.conf")


def test_an_unclosed_block_is_an_error():
    with pytest.raises(ApacheConfigError, match="no closing"):
        read_block("<VirtualHost *:443>\n  SSLEngine on\n", 1, "x.conf")


def test_run_config_modules_and_version():
    settings, defines = parse_run_config(
        'ServerRoot: "/etc/apache2"\nPidFile: "/run/apache2/apache2.pid"\nDefine: DUMP_RUN_CFG\nDefine: CERTS=/c\n')
    assert settings == {"ServerRoot": "/etc/apache2", "PidFile": "/run/apache2/apache2.pid"} and defines == {"DUMP_RUN_CFG": "", "CERTS": "/c"}
    modules = parse_loaded_modules("Loaded Modules:\n core_module (static)\n ssl_module (shared)\nSyntax OK\n")
    assert modules == ["core_module", "ssl_module"]
    assert parse_version("Server version: Apache/2.4.62 (Debian)\n") == "2.4.62"
    assert parse_version("nothing") == ""


@pytest.mark.parametrize("address, expected", [
    ("*:443", (None, 443)), ("_default_:443", (None, 443)), ("10.0.0.1:8443", ("10.0.0.1", 8443)),
    ("[::1]:443", ("::1", 443)), ("[::]:443", (None, 443)), ("*:*", (None, None)), ("10.0.0.1", ("10.0.0.1", None)),
])
def test_split_address(address, expected):
    assert split_address(address) == expected


def test_arguments_keep_quoted_spaces_and_literal_backslashes():
    assert split_arguments(r""""/a b/c" d 'e f' "x\"y" C:\path""") == ("/a b/c", "d", "e f", 'x"y', r"C:\path")
    assert expand_variables("${A}/${B}", {"A": "1"}) == "1/${B}"


@given(st.text())
def test_argument_splitting_never_fails(text):
    assert isinstance(split_arguments(text), tuple)
