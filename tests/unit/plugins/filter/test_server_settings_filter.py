# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The server_settings filter: the engine's settings, and its errors as AnsibleFilterError naming the cause."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.tlsops.ocsp.plugins.filter.server_settings import FilterModule

NGINX_DEFAULTS = yaml.safe_load(
    (Path(__file__).resolve().parents[4] / "roles" / "nginx_stapling" / "defaults" / "main.yml").read_text())
server_settings = FilterModule().filters()["server_settings"]


def test_filter_settles_the_settings() -> None:
    role_vars = dict(NGINX_DEFAULTS, nginx_stapling_prefix="/srv/ngx")
    settings = server_settings(role_vars, "nginx", "RedHat", "systemd", True)
    assert settings["command"] == ["/usr/sbin/nginx", "-p", "/srv/ngx", "-c", "/etc/nginx/nginx.conf"]
    expected = ("/etc/pki/tls/certs/ca-bundle.crt", True, True)
    assert (settings["ca_file"], settings["audit"], settings["private"]) == expected


def test_unknown_kind() -> None:
    with pytest.raises(AnsibleFilterError, match="server_settings: unknown server kind 'iis'"):
        server_settings(NGINX_DEFAULTS, "iis", "Debian", "", False)


def test_missing_variable() -> None:
    with pytest.raises(AnsibleFilterError, match=r"server_settings \(apache\): the role variable "
                                                 r"'apache_stapling_state' is not set"):
        server_settings({}, "apache", "Debian", "", False)
