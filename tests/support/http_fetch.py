# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A standard-library HTTP transport for ocsp.query, for tests and scripts that run without Ansible.

The modules pass one built on Ansible's open_url (module_helpers.open_url_fetch).
"""
from __future__ import annotations

import urllib.error
import urllib.request
from typing import Dict, Optional, Tuple

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine.ocsp import MAX_RESPONSE_BYTES


def urllib_fetch(url: str, body: Optional[bytes], headers: Dict[str, str], timeout: float) -> Tuple[int, bytes]:
    """POST when `body` is given, else GET; HTTP errors return their status and body."""
    request = urllib.request.Request(url, data=body, headers=headers, method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as error:
        return error.code, error.read(MAX_RESPONSE_BYTES)
