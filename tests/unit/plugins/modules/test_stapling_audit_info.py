# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""stapling_audit_info: one server that cannot be read is a result of the host, not the end of its audit."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import pytest
import yaml

pytest.importorskip("ansible.module_utils.basic", reason="the modules run on ansible-core")

from ansible_collections.tlsops.ocsp.plugins.modules import stapling_audit_info  # noqa: E402

ROLES = Path(__file__).resolve().parents[4] / "roles"


def role_defaults(kind: str, **values: Any) -> Dict[str, Any]:
    """A server role's variables as the action plugin passes them: its defaults, then the given values."""
    return dict(yaml.safe_load((ROLES / f"{kind}_stapling" / "defaults" / "main.yml").read_text()), **values)


def test_servers_that_cannot_be_read_are_named_with_their_message_and_the_host_is_not_failed(run_module, tmp_path):
    role_vars = {"nginx": role_defaults("nginx", nginx_stapling_binary=str(tmp_path / "nginx")),
                 "apache": role_defaults("apache", apache_stapling_ctl=str(tmp_path / "apache2ctl"))}
    result = run_module(stapling_audit_info.main, servers=["nginx", "apache"], role_vars=role_vars, host="web1",
                        os_family="Debian", service_mgr="systemd")
    assert not result.get("failed"), result
    assert [(item["host"], item["server"], item["state"]) for item in result["unreadable"]] == [
        ("web1", "apache", "unreadable"), ("web1", "nginx", "unreadable")]
    reasons = {item["server"]: item["reason"] for item in result["unreadable"]}
    assert str(tmp_path / "nginx") in reasons["nginx"] and "binary" in reasons["nginx"]
    assert str(tmp_path / "apache2ctl") in reasons["apache"]
    assert result["endpoints"] == [] and any("nginx could not be read" in line for line in result["lines"])
