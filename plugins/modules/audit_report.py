#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: audit_report
short_description: Write the fleet OCSP audit as JSON, Markdown, HTML and OpenMetrics
version_added: 0.1.0
description:
  - Takes the endpoint entries that the server roles record in their C(<role>_endpoints) facts
    (what M(tlsops.ocsp.staple_info) returns per endpoint, plus the server kind and why stapling
    does or does not apply, and from newer roles the revocation status from the responder or the
    CRL) and writes one report in up to four forms into O(dest).
  - C(ocsp-audit.json) is for machines, C(ocsp-audit.md) for tickets, C(ocsp-audit.html) is a
    single self-contained page (no external assets). It shows the counts by severity first, then a
    "fix first" list with reason and remedy, what changed since the last audit, charts that stay
    readable at thousands of endpoints, and the hosts as collapsible sections with a filter box.
  - C(ocsp-audit.prom) holds the metrics in the OpenMetrics text format for node_exporter's
    textfile collector (written into O(metrics_dest)); the metrics are listed in docs/metrics.md.
  - An endpoint is critical when its certificate is revoked (by the staple, the responder asked
    from the host, or the CRL) or expired, when a Must-Staple certificate has no good staple or
    names no OCSP responder (it can never be stapled), or when the staple is past its nextUpdate.
    It is a warning when stapling is missing or broken on a certificate without Must-Staple, when
    the certificate expires within 14 days, when the CRL check failed, or when the certificate's
    lifetime exceeds the CA/Browser Forum maximum (ballot SC-081) in force at its issue date or at
    the next step (the reason names the date).
  - When O(dest) holds C(ocsp-audit.json) from the last run, it is kept as
    C(ocsp-audit.previous.json) and the report lists the findings that are new and those that
    were fixed since.
  - Endpoints that no one logs in to (load balancers, appliances, CDN edges, partners' sites) are checked from
    where the module runs, the controller, and reported beside the rest (O(outside_endpoints) and
    O(outside_group)). The staple is verified against the served certificate and its issuer (signature, signer
    authority, CertID, freshness, as M(tlsops.ocsp.staple_info) does); where nothing is stapled, the served
    certificate's OCSP responder is asked from here; where it names no OCSP URL, its CRL is downloaded and
    verified. A certificate served at many endpoints is asked about once. Their rows say V(outside) as
    C(checked_from) and C(server_kind), and as C(inventory_host) unless the endpoint has an inventory name;
    they count in no host's coverage.
  - A sliced audit (AWX job slicing, or runs with C(--limit) shares) writes one part per slice (O(part)),
    then one run merges them (O(merge_parts)) into the report, its metrics and its "since the last audit",
    as if one audit had run; a host that two slices audited is counted once and said so, a host no slice
    reported is V(not_run) when O(targeted) names it.
  - Meant to run once, on the controller, with C(delegate_to=localhost) and C(run_once=true).
author:
  - tlsops maintainers (@tlsops)
options:
  endpoints:
    description:
      - Endpoint entries, each tagged with C(inventory_host).
    type: list
    elements: dict
    default: []
  outside_endpoints:
    description:
      - Endpoints to check from outside. Each is a string C(host[:port][/server_name]) (an IPv6 address in
        brackets, C([2001:db8::1]:443/www.example.com); port 443 when not given; the server name sent as
        SNI defaults to the host unless that is an address), or a dictionary with C(host), C(port),
        C(server_name) and C(name) (the name its row carries as C(inventory_host)).
      - Endpoints that cannot be read as given fail the module, all of them named, before any is checked.
    type: list
    elements: raw
    default: []
  outside_group:
    description:
      - An inventory group whose hosts are endpoints to check from outside; their rows carry their inventory
        names. Read on the controller by the module's action plugin; a group not in the inventory fails it.
      - Each host is checked at its C(tlsops_ocsp_endpoint) (C(host[:port][/server_name])) when set, else at
        its name read the same way, its C(ansible_host) and C(ansible_port) taking the place of the address
        and port when set (the name is then the server name). C(tlsops_ocsp_server_name) sets the server name.
    type: str
  outside_ca_path:
    description:
      - File with CA certificates (PEM bundle or one DER certificate) where the issuer of a certificate served
        from outside is looked for when the endpoint does not serve it in its chain.
    type: path
  outside_timeout:
    description: Seconds one handshake, OCSP request or CRL download of the outside checks may take.
    type: float
    default: 10
  hosts_without_servers:
    description:
      - Inventory hosts on which no nginx, Apache or IIS was found; listed in the report, not failed.
    type: list
    elements: str
    default: []
  not_audited:
    description:
      - What could not be audited, so that the report never goes blind silently. Each item has C(host),
        C(state) and C(reason) (in words); C(state) is V(unreachable) (the host could not be reached),
        V(failed) (the audit failed on the host) or V(unreadable) (one server of the host could not be read;
        give C(server) too; the host's other servers are still in O(endpoints)).
      - Each one is critical (in RV(critical)) and is counted in the report's coverage card, its Markdown
        section and the C(tlsops_ocsp_hosts{state=...}) metric.
    type: list
    elements: dict
    default: []
  targeted:
    description:
      - Every inventory host the audit was meant to cover. One that is neither in O(endpoints),
        O(hosts_without_servers) nor O(not_audited) is reported as V(not_run) (the play ended before it).
    type: list
    elements: str
    default: []
  dest:
    description:
      - Directory to write the report into; created (mode C(0755)) when missing.
      - On the controller (a local connection), a relative path is relative to the directory
        C(ansible-playbook) runs in, not to the playbook's directory.
    type: path
    required: true
  formats:
    description:
      - Which forms to write.
    type: list
    elements: str
    choices: [json, markdown, html, metrics]
    default: [json, markdown, html, metrics]
  part:
    description:
      - Write this slice's part, C(ocsp-audit.part-<part>.json) in O(dest), instead of the report. The part
        holds what the report is built from (the endpoint entries, O(hosts_without_servers), O(not_audited), O(targeted)),
        for O(merge_parts) to merge. Nothing else is written; the results are the slice's own.
      - V(auto) names the part from the slice's hosts (a slice run again on the same hosts replaces its part),
        the value for AWX job slicing, where every slice gets the same variables.
    type: str
  merge_parts:
    description:
      - Build the report from every part in O(dest) (see O(part)) and from the other options, then remove the
        parts merged, so that the next sliced audit starts from none. Give O(targeted) every host the slices
        were meant to audit; one that no part reports is V(not_run).
    type: bool
    default: false
  metrics_dest:
    description:
      - Directory for C(ocsp-audit.prom), for example node_exporter's C(--collector.textfile.directory);
        created (mode C(0755)) when missing. Defaults to O(dest).
    type: path
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
requirements:
  - cryptography >= 3.4.8 and pyOpenSSL >= 21.0.0, for O(outside_endpoints) and O(outside_group) only
notes:
  - The responders and CRL servers of the endpoints checked from outside are asked from where the module
    runs, with its proxy settings; the endpoint's own server may reach them differently.
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

- name: Add the load balancers and a partner's site, checked from the controller
  tlsops.ocsp.audit_report:
    endpoints: "{{ audit_endpoints }}"
    outside_endpoints:
      - lb1.example.com
      - 192.0.2.10:8443/www.example.com
      - {host: edge.example.net, port: 443, server_name: shop.example.com, name: cdn-edge}
    outside_group: appliances
    dest: /srv/reports/ocsp
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
summary:
  description: Counts over the fleet.
  returned: always
  type: dict
  sample: {"hosts": 2, "endpoints": 6, "by_verdict": {"good": 4, "not_applicable": 2}, "critical": 0, "warning": 1,
           "ok": 5, "hosts_by_state": {"audited": 2, "unreachable": 0, "failed": 0, "not_run": 0,
                                       "unreadable_servers": 0}}
summary_line:
  description: The summary as one sentence.
  returned: always
  type: str
  sample: "2 hosts, 6 endpoints (good 4, not_applicable 2); 0 critical, 0 warnings"
critical:
  description: One line per critical finding, naming host, server, endpoint, what is wrong and why; first, one
    line per host or server that could not be audited (O(not_audited), and V(not_run) hosts of O(targeted)).
  returned: always
  type: list
  elements: str
since_last:
  description: Counts of findings new and fixed since the previous report in O(dest); null without one.
  returned: always
  type: dict
  sample: {"previous_generated_at": "2026-11-23T04:00:00Z", "new": 1, "fixed": 3, "added": 0, "gone": 0}
merged_parts:
  description: The parts merged (and removed) with O(merge_parts).
  returned: always
  type: list
  elements: str
  sample: [/srv/reports/ocsp-audit.part-3f9a1c2b7d10.json]
files:
  description: The files written (or that would be written in check mode); with O(part), the part.
  returned: always
  type: list
  elements: str
  sample: [/srv/reports/ocsp-audit.json, /srv/reports/ocsp-audit.md, /srv/reports/ocsp-audit.html,
           /var/lib/node_exporter/ocsp-audit.prom]
"""

import json
import os
import re
import traceback
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.module_helpers import (
    open_url_download, open_url_fetch, read_certificates, require_libraries)
from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_report as report
from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_html
from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_markdown
from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_metrics
from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_parts
from ansible_collections.tlsops.ocsp.plugins.module_utils._report import stapling_report

try:
    from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import stapling_check
    from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import tls
except ImportError:
    ENGINE_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    ENGINE_IMPORT_ERROR = None

RENDERERS: Dict[str, Callable[[dict], str]] = {
    "json": report.render_json,
    "markdown": audit_markdown.render_markdown,
    "html": audit_html.render_html,
    "metrics": audit_metrics.render_metrics,
}
FILE_NAMES = {"json": "ocsp-audit.json", "markdown": "ocsp-audit.md", "html": "ocsp-audit.html",
              "metrics": "ocsp-audit.prom"}
PREVIOUS = "ocsp-audit.previous.json"
OUTSIDE_KEYS = ("host", "port", "server_name", "name")
PART_NAME = re.compile(r"^[A-Za-z0-9._-]+$")


def write(module: AnsibleModule, path: str, text: str) -> None:
    """Write atomically, mode 0644, so a reader (node_exporter too) never sees half a file."""
    tmp_path = path + ".tmp"
    with open(tmp_path, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp_path, 0o644)
    module.atomic_move(tmp_path, path)


def read_previous(module: AnsibleModule, path: str) -> Optional[Dict[str, Any]]:
    """The last run's JSON report, or None when there is none or it cannot be read (with a warning)."""
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            previous = json.load(handle)
    except (OSError, ValueError) as exc:
        module.warn("cannot read the previous audit report %s (%s): the report has no 'since the last audit' "
                    "section this time" % (path, exc))
        return None
    if not isinstance(previous, dict) or not isinstance(previous.get("endpoints"), list):
        module.warn("%s is not an audit report (no endpoints list): ignored" % path)
        return None
    return previous


def read_outside_endpoint(index: int, given: Any) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    """(endpoint, None) or (None, what is wrong with outside_endpoints[index])."""
    where = "outside_endpoints[%d]" % index
    if isinstance(given, str):
        try:
            host, port, server_name = tls.parse_endpoint(given)
        except ValueError as error:
            return None, "%s: %s" % (where, error)
        return {"host": host, "port": port, "server_name": server_name, "name": None}, None
    if not isinstance(given, dict) or not isinstance(given.get("host"), str) or not given["host"]:
        return None, "%s: give a string host[:port][/server_name] or a dictionary with host" % where
    unknown = sorted(set(given) - set(OUTSIDE_KEYS))
    if unknown:
        return None, "%s: unknown keys %s; a dictionary takes %s" % (
            where, ", ".join(unknown), ", ".join(OUTSIDE_KEYS))
    try:
        port = int(given.get("port") or 443)
    except (TypeError, ValueError):
        port = 0
    if not 1 <= port <= 65535:
        return None, "%s: port %r is not a TCP port; give a port from 1 to 65535" % (where, given.get("port"))
    return {"host": given["host"], "port": port, "server_name": given.get("server_name"),
            "name": given.get("name")}, None


def checked_from_outside(module: AnsibleModule) -> List[Dict[str, Any]]:
    """The rows of the outside endpoints (none without them); fails naming every endpoint that cannot be read."""
    params = module.params
    if not params["outside_endpoints"]:
        return []
    require_libraries(module, ENGINE_IMPORT_ERROR, pyopenssl=True)
    read = [read_outside_endpoint(index, given) for index, given in enumerate(params["outside_endpoints"])]
    problems = [problem for _endpoint, problem in read if problem]
    if params["outside_timeout"] <= 0:
        problems.append("outside_timeout: %s is not allowed; give a number of seconds above 0"
                        % params["outside_timeout"])
    if problems:
        module.fail_json(msg="nothing was checked from outside; fix these %d problems: %s"
                         % (len(problems), "; ".join(problems)), problems=problems)
    endpoints = [endpoint for endpoint, _problem in read if endpoint]
    ca_path = params["outside_ca_path"]
    checked = stapling_check.check_outside(
        endpoints, fetch=open_url_fetch, download=open_url_download, timeout=params["outside_timeout"],
        ca_certs=read_certificates(module, ca_path, "outside_ca_path") if ca_path else [])
    return stapling_report.outside_entries(checked["endpoints"], checked["responders"], checked["crls"],
                                           names=[endpoint["name"] for endpoint in endpoints])


def read_parts(module: AnsibleModule, dest: str) -> List[Tuple[str, Dict[str, Any]]]:
    """(path, part) of every slice's part in `dest`; fails naming a file that is not one."""
    try:
        names = sorted(name for name in os.listdir(dest)
                       if name.startswith(audit_parts.FILE_PREFIX) and name.endswith(audit_parts.FILE_SUFFIX))
    except OSError as exc:
        module.fail_json(msg="merge_parts: cannot list the parts in dest %s: %s; give the directory the slices "
                             "wrote their parts into" % (dest, exc))
    parts = []
    for name in names:
        path = os.path.join(dest, name)
        try:
            with open(path, encoding="utf-8") as handle:
                parts.append((path, audit_parts.load(handle.read(), path)))
        except (OSError, audit_parts.PartError) as exc:
            module.fail_json(msg="merge_parts: %s" % exc)
    return parts


def report_inputs(module: AnsibleModule) -> Dict[str, Any]:
    """What the report is built from: the options (endpoints checked from outside included), and with
    merge_parts the slices' parts in dest too."""
    params = module.params
    not_audited = params["not_audited"]
    malformed = [item for item in not_audited if not (isinstance(item.get("host"), str) and item.get("state") in (
        report.UNREACHABLE, report.FAILED, report.UNREADABLE))]
    if malformed:
        module.fail_json(msg="not_audited: each item needs host and a state of unreachable, failed or unreadable "
                             "(with its reason); got %s" % malformed[0])
    # the parts first: a part that cannot be read fails the run before any endpoint is checked from outside
    parts = read_parts(module, os.path.abspath(params["dest"])) if params["merge_parts"] else []
    inputs = {"endpoints": params["endpoints"] + checked_from_outside(module),
              "hosts_without_servers": params["hosts_without_servers"],
              "not_audited": [dict(item, reason=str(item.get("reason") or "no reason given")) for item in not_audited],
              "targeted": params["targeted"], "counted_twice": [], "part_files": []}
    if not params["merge_parts"]:
        return inputs
    merged, counted_twice = audit_parts.merge([part for _path, part in parts])
    for key in audit_parts.INPUTS:
        inputs[key] = merged[key] + inputs[key]
    return dict(inputs, counted_twice=counted_twice, part_files=[path for path, _part in parts])


def write_part(module: AnsibleModule, dest: str, inputs: Dict[str, Any], generated_at: str) -> str:
    """This slice's part in dest (named by `part`, or from its hosts with `auto`); the path."""
    name = module.params["part"]
    if name == "auto":
        name = audit_parts.default_name(inputs)
    if not PART_NAME.match(name):
        module.fail_json(msg="part: %r cannot name a file; give letters, digits, '.', '_' or '-', or auto" % name)
    path = os.path.join(dest, audit_parts.file_name(name))
    if not module.check_mode:
        try:
            os.makedirs(dest, mode=0o755, exist_ok=True)
            write(module, path, audit_parts.render(name, generated_at, inputs))
        except OSError as exc:
            module.fail_json(msg="cannot write the audit part %s: %s; choose a writable directory shared by the "
                                 "slices with the dest option" % (path, exc))
    return path


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "endpoints": {"type": "list", "elements": "dict", "default": []},
            "outside_endpoints": {"type": "list", "elements": "raw", "default": []},
            "outside_group": {"type": "str"},  # the action plugin has added its hosts to outside_endpoints
            "outside_ca_path": {"type": "path"},
            "outside_timeout": {"type": "float", "default": 10},
            "hosts_without_servers": {"type": "list", "elements": "str", "default": []},
            "not_audited": {"type": "list", "elements": "dict", "default": []},
            "targeted": {"type": "list", "elements": "str", "default": []},
            "dest": {"type": "path", "required": True},
            "formats": {"type": "list", "elements": "str", "choices": list(RENDERERS),
                        "default": list(RENDERERS)},
            "metrics_dest": {"type": "path"},
            "part": {"type": "str"},
            "merge_parts": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    if module.params["part"] and module.params["merge_parts"]:
        module.fail_json(msg="part and merge_parts: a run either writes its slice's part or merges the parts; "
                             "give one of them")
    dest = os.path.abspath(module.params["dest"])
    metrics_dest = os.path.abspath(module.params["metrics_dest"] or dest)
    json_path = os.path.join(dest, FILE_NAMES["json"])
    inputs = report_inputs(module)
    previous = None if module.params["part"] else read_previous(module, json_path)
    data = report.build(inputs["endpoints"], inputs["hosts_without_servers"], previous=previous,
                        not_audited=inputs["not_audited"], targeted=inputs["targeted"],
                        counted_twice=inputs["counted_twice"])
    if module.params["part"]:
        files = [write_part(module, dest, inputs, data["generated_at"])]
    else:
        files = write_report(module, data, dest, metrics_dest, previous is not None)
        if not module.check_mode:
            for path in inputs["part_files"]:  # merged: the next sliced run starts from none
                os.remove(path)
    since = data["since_last"]
    module.exit_json(changed=not module.check_mode, summary=data["summary"],
                     summary_line=report.summary_line(data), critical=data["critical"], files=files,
                     merged_parts=inputs["part_files"],
                     since_last={"previous_generated_at": since["previous_generated_at"],
                                 **{key: len(since[key]) for key in ("new", "fixed", "added", "gone")}}
                     if since else None)


def write_report(module: AnsibleModule, data: Dict[str, Any], dest: str, metrics_dest: str,
                 had_previous: bool) -> List[str]:
    """Every form asked for (the last JSON kept as the previous one); the paths."""
    json_path = os.path.join(dest, FILE_NAMES["json"])
    formats = module.params["formats"]
    files = [os.path.join(metrics_dest if fmt == "metrics" else dest, FILE_NAMES[fmt]) for fmt in formats]
    if module.check_mode:
        return files
    try:
        for directory in {os.path.dirname(path) for path in files}:
            os.makedirs(directory, mode=0o755, exist_ok=True)
        if had_previous and "json" in formats:
            os.replace(json_path, os.path.join(dest, PREVIOUS))
        for fmt, path in zip(formats, files):
            write(module, path, RENDERERS[fmt](data))
    except OSError as exc:
        module.fail_json(msg="cannot write the audit report (dest %s, metrics_dest %s): %s; choose writable "
                             "directories with the dest and metrics_dest options" % (dest, metrics_dest, exc))
    return files


if __name__ == "__main__":
    main()
