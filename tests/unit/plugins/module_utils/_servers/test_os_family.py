# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OS family the audit's one call reads from /etc/os-release where no fact was gathered."""
from __future__ import annotations

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import os_family


@pytest.mark.parametrize("text, family", [
    ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n', "Debian"),
    ('ID=ubuntu\nID_LIKE=debian\n', "Debian"),
    ('ID=linuxmint\nID_LIKE="ubuntu debian"\n', "Debian"),
    ('ID="rhel"\nID_LIKE="fedora"\n', "RedHat"),
    ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "RedHat"),
    ('ID="amzn"\nID_LIKE="centos rhel fedora"\n', "RedHat"),
    ('ID=fedora\n', "RedHat"),
    ("ID='ol' # Oracle Linux\nID_LIKE='fedora'\n", "RedHat"),
    ('ID="opensuse-leap"\nID_LIKE="suse opensuse"\n', ""),
    ("ID=arch\n", ""),
    ("", ""),
])
def test_the_family_from_id_and_id_like(text, family):
    assert os_family.os_family_from_release(text) == family


def test_a_missing_file_is_an_unknown_family(tmp_path):
    assert os_family.read_os_family(str(tmp_path / "os-release")) == ""
    (tmp_path / "os-release").write_text("ID=debian\n")
    assert os_family.read_os_family(str(tmp_path / "os-release")) == "Debian"
