#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: audit_report
short_description: Write the fleet OCSP stapling audit as JSON, Markdown and HTML
version_added: 0.1.0
description:
  - Takes the endpoint entries that the server roles record in their C(<role>_endpoints) facts
    (what M(tlsops.ocsp.staple_info) returns per endpoint, plus the server kind and why stapling
    does or does not apply) and writes one report in up to three forms into O(dest).
  - C(ocsp-audit.json) is for machines, C(ocsp-audit.md) for tickets, and C(ocsp-audit.html) is a
    single self-contained page (no external assets) with a sortable table and a picture of staple
    freshness against certificate expiry across the fleet.
  - Rows are sorted worst first. An endpoint is critical when a Must-Staple certificate has no
    good staple, when the staple says revoked, when the staple is past its nextUpdate, or when the
    server staples nothing and the OCSP responder, asked from the host, says revoked (servers do
    not staple revoked answers).
  - Meant to run once, on the controller, with C(delegate_to=localhost) and C(run_once=true).
author:
  - tlsops maintainers (@tlsops)
options:
  endpoints:
    description:
      - Endpoint entries, each tagged with C(inventory_host).
    type: list
    elements: dict
    required: true
  hosts_without_servers:
    description:
      - Inventory hosts on which no nginx, Apache or IIS was found; listed in the report, not failed.
    type: list
    elements: str
    default: []
  dest:
    description:
      - Directory to write the report into; created (mode C(0755)) when missing.
    type: path
    required: true
  formats:
    description:
      - Which forms to write.
    type: list
    elements: str
    choices: [json, markdown, html]
    default: [json, markdown, html]
extends_documentation_fragment:
  - tlsops.ocsp.attributes
attributes:
  check_mode:
    support: full
    details:
      - In check mode nothing is written; the summary is still returned.
  diff_mode:
    support: none
    details:
      - The report is written whole; there is no diff.
  platform:
    support: full
    platforms: posix
seealso:
  - module: tlsops.ocsp.staple_info
"""

EXAMPLES = r"""
- name: Write the audit report on the controller
  tlsops.ocsp.audit_report:
    endpoints: "{{ audit_endpoints }}"
    dest: "{{ playbook_dir }}/reports"
  delegate_to: localhost
  run_once: true
  register: audit
"""

RETURN = r"""
summary:
  description: Counts over the fleet.
  returned: always
  type: dict
  sample: {"hosts": 2, "endpoints": 6, "by_verdict": {"good": 4, "not_applicable": 2}, "critical": 0, "warning": 0}
summary_line:
  description: The summary as one sentence.
  returned: always
  type: str
  sample: "2 hosts, 6 endpoints (good 4, not_applicable 2); 0 critical, 0 warnings"
critical:
  description: One line per critical endpoint, naming host, server, endpoint, verdict and reason.
  returned: always
  type: list
  elements: str
files:
  description: The files written (or that would be written in check mode).
  returned: always
  type: list
  elements: str
  sample: [/srv/reports/ocsp-audit.json, /srv/reports/ocsp-audit.md, /srv/reports/ocsp-audit.html]
"""

import os
from typing import Callable, Dict

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tlsops.ocsp.plugins.module_utils import report

RENDERERS: Dict[str, Callable[[dict], str]] = {
    "json": report.render_json,
    "markdown": report.render_markdown,
    "html": report.render_html,
}
FILE_NAMES = {"json": "ocsp-audit.json", "markdown": "ocsp-audit.md", "html": "ocsp-audit.html"}


def write(module: AnsibleModule, path: str, text: str) -> None:
    """Write atomically, mode 0644, so a reader never sees half a report."""
    tmp_path = path + ".tmp"
    with open(tmp_path, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp_path, 0o644)
    module.atomic_move(tmp_path, path)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "endpoints": {"type": "list", "elements": "dict", "required": True},
            "hosts_without_servers": {"type": "list", "elements": "str", "default": []},
            "dest": {"type": "path", "required": True},
            "formats": {"type": "list", "elements": "str", "choices": list(RENDERERS),
                        "default": list(RENDERERS)},
        },
        supports_check_mode=True,
    )
    dest = os.path.abspath(module.params["dest"])
    data = report.build(module.params["endpoints"], module.params["hosts_without_servers"])
    files = [os.path.join(dest, FILE_NAMES[fmt]) for fmt in module.params["formats"]]
    if not module.check_mode:
        try:
            os.makedirs(dest, mode=0o755, exist_ok=True)
            for fmt, path in zip(module.params["formats"], files):
                write(module, path, RENDERERS[fmt](data))
        except OSError as exc:
            module.fail_json(msg="cannot write the audit report into %s: %s; choose a writable directory "
                                 "with the dest option" % (dest, exc))
    module.exit_json(changed=not module.check_mode, summary=data["summary"],
                     summary_line=report.summary_line(data), critical=data["critical"], files=files)


if __name__ == "__main__":
    main()
