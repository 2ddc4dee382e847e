# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OS family of a host from /etc/os-release, where no fact was gathered: Debian, RedHat or unknown.

The roles' paths differ only between these two families (any other one uses Debian's), so the audit's
one call reads one small file instead of running ansible-core's distribution collector.
"""
from __future__ import annotations

import shlex
from typing import Dict

OS_RELEASE = "/etc/os-release"
# ID or ID_LIKE words that make the family (ansible-core's os_family of these distributions)
FAMILY_WORDS = (("RedHat", {"rhel", "fedora", "centos"}), ("Debian", {"debian", "ubuntu"}))


def os_release_fields(text: str) -> Dict[str, str]:
    fields = {}
    for line in text.splitlines():
        name, equals, value = line.partition("=")
        if equals and name.strip() and not name.startswith("#"):
            words = shlex.split(value, comments=True) if value.strip() else [""]
            fields[name.strip()] = " ".join(words)
    return fields


def os_family_from_release(text: str) -> str:
    """`RedHat`, `Debian`, or an empty string when os-release names neither."""
    fields = os_release_fields(text)
    words = set(fields.get("ID", "").lower().split()) | set(fields.get("ID_LIKE", "").lower().split())
    for family, family_words in FAMILY_WORDS:
        if words & family_words:
            return family
    return ""


def read_os_family(path: str = OS_RELEASE) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return os_family_from_release(handle.read())
    except OSError:
        return ""
