# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attributes of the tlsops.ocsp modules.

Use both pieces: C(tlsops.ocsp.attributes) describes the attributes,
C(tlsops.ocsp.attributes.info_module) says how a read-only module supports them.
"""
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return the same result as a normal run.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
  platform:
    description: Target operating systems and families the module runs on.
"""

    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This module only reads; check mode runs it as usual.
  diff_mode:
    support: none
    details:
      - This module changes nothing, so there is no diff.
  platform:
    support: full
    platforms: posix
"""
