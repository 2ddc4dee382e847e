#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: haproxy_ocsp_file
short_description: "Internal: fetch, verify, write and push HAProxy's <crt>.ocsp files"
version_added: 0.1.0
description:
  - Internal helper of the P(tlsops.ocsp.haproxy_stapling#role) role; its interface may change without notice.
  - For each certificate bundle, asks its OCSP responder from this host, verifies the answer for exactly the
    certificate in the file (issuer from the bundle or C(<crt>.issuer)), writes C(<crt>.ocsp) atomically with
    O(mode) and pushes it to the running HAProxy through its admin stats socket, so no reload is needed.
  - A current file that still verifies and is not due is kept; when the responder gives no usable answer a
    current valid file is kept, one that no longer verifies is removed.
  - The same engine runs in the refresher program the role installs.
author:
  - tlsops maintainers (@tlsops)
requirements:
  - cryptography >= 3.4.8
options:
  certificates:
    description: The certificate bundles (PEM files HAProxy serves).
    type: list
    elements: path
    required: true
  state:
    description: V(present) keeps the files fresh; V(absent) removes every C(<crt>.ocsp) of O(certificates).
    type: str
    choices: [present, absent]
    default: present
  socket_path:
    description: HAProxy's admin-level stats socket; without it the files wait for HAProxy's next reload.
    type: path
  renew_before:
    description: Fetch anew when fewer seconds than this (or than half its validity) are left to a response.
    type: int
    default: 1800
  mode:
    description: The mode of the files written, octal.
    type: str
    default: "0644"
  timeout:
    description: Seconds to wait for a responder.
    type: float
    default: 10
extends_documentation_fragment:
  - tlsops.ocsp.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Keep the .ocsp files of two bundles fresh and push them live
  tlsops.ocsp.haproxy_ocsp_file:
    certificates: [/etc/haproxy/certs/site.pem, /etc/haproxy/certs/api.pem]
    socket_path: /run/haproxy/admin.sock
"""

RETURN = r"""
certificates:
  description: One record per bundle, the response now in place and what was done.
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/haproxy/certs/site.pem, ocsp_path: /etc/haproxy/certs/site.pem.ocsp, action: written,
            pushed: true, reload_needed: false, failed: false, verdict: good, cert_status: good,
            next_update: "2026-12-08T10:00:00Z", reason: "OCSP response for CN=site: good ..."}]
reload_needed:
  description: Whether HAProxy must reload to read a file (it had none at start, or serves another certificate).
  returned: always
  type: bool
  sample: false
failed_certificates:
  description: Bundles with a problem to report and retry (responder down, no issuer, HAProxy refused).
  returned: always
  type: list
  elements: str
  sample: []
revoked:
  description: Bundles whose verified response says revoked (stapled as the truth).
  returned: always
  type: list
  elements: str
  sample: []
"""

import os
import traceback
from typing import Any, Dict, Optional

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.module_helpers import open_url_fetch, require_libraries

try:
    from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import refresh as haproxy_refresh
except ImportError:
    ENGINE_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    ENGINE_IMPORT_ERROR = None


def remove(module: AnsibleModule) -> Dict[str, Any]:
    present = [path + ".ocsp" for path in module.params["certificates"] if os.path.exists(path + ".ocsp")]
    if not module.check_mode:
        for path in present:
            os.unlink(path)
    return {"changed": bool(present), "removed": present, "certificates": [], "reload_needed": bool(present),
            "failed_certificates": [], "revoked": []}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "certificates": {"type": "list", "elements": "path", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "socket_path": {"type": "path"},
            "renew_before": {"type": "int", "default": 1800},
            "mode": {"type": "str", "default": "0644"},
            "timeout": {"type": "float", "default": 10},
        },
        supports_check_mode=True,
    )
    require_libraries(module, ENGINE_IMPORT_ERROR)
    if module.params["state"] == "absent":
        module.exit_json(**remove(module))
    try:
        mode = int(module.params["mode"], 8)
    except ValueError:
        module.fail_json(msg="mode: %r is not an octal file mode; write it like \"0644\"" % module.params["mode"])
    try:
        result = haproxy_refresh.refresh_all(
            module.params["certificates"], open_url_fetch, socket_path=module.params["socket_path"],
            renew_before=module.params["renew_before"], mode=mode, timeout=module.params["timeout"],
            check_mode=module.check_mode)
    except OSError as error:
        module.fail_json(msg="cannot write an OCSP file (%s: %s); check that the directory of the certificate "
                             "is writable by the remote user" % (getattr(error, "filename", ""), error.strerror or error))
    module.exit_json(changed=result["changed"], certificates=result["certificates"],
                     reload_needed=result["reload_needed"], failed_certificates=result["failed"],
                     revoked=result["revoked"])


if __name__ == "__main__":
    main()
