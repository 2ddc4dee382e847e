# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""role_files: the server roles' defaults and argument specs, as the audit's action plugin reads them."""
from __future__ import annotations

import pytest

from ansible_collections.tlsops.ocsp.plugins.plugin_utils import role_files


@pytest.mark.parametrize("kind", ["nginx", "apache", "haproxy"])
def test_every_audit_option_has_a_default(kind):
    defaults, options = role_files.role_files(kind)
    assert f"{kind}_stapling_check_timeout" in options and f"{kind}_stapling_state" in defaults
    # the action plugin fills the host's values over these defaults: an option without one would be missing
    assert sorted(name for name in options if name not in defaults) == []


def test_an_unknown_entry_point_is_a_key_error():
    with pytest.raises(KeyError):
        role_files.entry_point_options("nginx", "no_such_entry_point")
