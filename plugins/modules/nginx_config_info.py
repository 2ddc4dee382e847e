#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: nginx_config_info
short_description: "Internal: read the configuration an nginx instance runs, and its certificates"
version_added: 0.1.0
description:
  - Internal helper of the C(nginx_stapling) role (its discovery and inspection phases in one call); its
    options and results may change between minor releases.
  - Runs C(nginx -T) with the given binary, prefix and main configuration file, so includes and
    sites are seen exactly as nginx sees them, and parses the output with an exact reader of
    nginx's syntax (quotes, escapes, comments, blocks, the file and line of every server block).
  - Fails with nginx's own message when the configuration does not pass C(nginx -t).
options:
  binary:
    description: The nginx executable.
    type: path
    default: /usr/sbin/nginx
  config_file:
    description: The main configuration file (C(nginx -c)).
    type: path
    default: /etc/nginx/nginx.conf
  prefix:
    description: The prefix path (C(nginx -p)); empty for the compiled-in one.
    type: str
    default: ""
  extra_args:
    description: More nginx command-line arguments for every call, such as C([-e, /srv/nginx/error.log]).
    type: list
    elements: str
    default: []
  check_host:
    description: The address to handshake with for servers listening on an IPv4 wildcard.
    type: str
    default: 127.0.0.1
  check_host_v6:
    description: The address to handshake with for servers listening on C([::]) only.
    type: str
    default: "::1"
  dropin_path:
    description: A file whose inclusion at http level is reported in RV(dropin_included).
    type: path
  marker_line:
    description: A line whose files are reported in RV(files_with_marker).
    type: str
  resolv_conf:
    description: A resolv.conf whose nameservers are returned in RV(resolvers), as nginx's C(resolver) takes them.
    type: path
  inspect:
    description: Also inspect every certificate file the TLS servers name (RV(certificates)).
    type: bool
    default: false
extends_documentation_fragment:
  - tlsops.ocsp.attributes
  - tlsops.ocsp.stapling_check
  - tlsops.ocsp.attributes.info_module
author:
  - tlsops maintainers (@tlsops)
"""

EXAMPLES = r"""
- name: Read a private instance
  tlsops.ocsp.nginx_config_info:
    binary: /usr/sbin/nginx
    prefix: /srv/lab/nginx
    config_file: /srv/lab/nginx/nginx.conf
  register: nginx_config
"""

RETURN = r"""
version:
  description: The nginx version.
  type: str
  returned: always
  sample: 1.22.1
main_file:
  description: The main configuration file as nginx names it.
  type: str
  returned: always
files:
  description: Every configuration file nginx read, in order.
  type: list
  elements: str
  returned: always
servers:
  description:
    - Every server block of the http context with C(file), C(line), C(block_line),
      C(block_end_line), C(listens), C(server_names), C(ssl), C(certificates) (absolute paths),
      C(includes), C(stapling) and C(endpoints) (C(host), C(port), C(server_name)).
  type: list
  elements: dict
  returned: always
http_resolver:
  description: Whether a C(resolver) is set at http level in a file other than O(dropin_path).
  type: bool
  returned: always
dropin_included:
  description: Whether O(dropin_path) would be read at http level.
  type: bool
  returned: when O(dropin_path) is given
files_with_marker:
  description: The files holding a line equal to O(marker_line).
  type: list
  elements: str
  returned: always
http_stapling_directives:
  description: The stapling directives at http level (C(ssl_stapling*), C(ssl_trusted_certificate), C(resolver*)),
    each with C(name), C(args), C(file) and C(line); each server has its own in C(stapling_directives).
  type: list
  elements: dict
  returned: always
resolvers:
  description: The nameservers of O(resolv_conf) (IPv6 in brackets); empty without it.
  type: list
  elements: str
  returned: always
certificates:
  description: With O(inspect), the facts of every certificate in every file the servers name
    (as M(tlsops.ocsp.certificate_info) returns them).
  type: list
  elements: dict
  returned: when O(inspect) is true
warnings_seen:
  description: The warning lines of C(nginx -T).
  type: list
  elements: str
  returned: always
plan:
  description: With O(check), the stapling plan of this server (what the C(tlsops.ocsp.stapling_plan) filter returns).
  type: dict
  returned: when O(check) is given
checked:
  description:
    - With O(check), what the check found, as M(tlsops.ocsp.stapling_check_info) returns it for the plan's
      endpoints (C(endpoints), C(responders), C(crls)).
  type: dict
  returned: when O(check) is given
"""

import os
import re
from typing import Any, Dict, List

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tlsops.ocsp.plugins.module_utils.module_check import CHECK_SPEC, plan_and_check
from ansible_collections.tlsops.ocsp.plugins.module_utils.module_common import describe_certificate_files
from ansible_collections.tlsops.ocsp.plugins.module_utils.nginx_config import (
    NginxConfigError,
    load_dump,
    resolvers,
    server_endpoints,
)


def _nginx(module: AnsibleModule, *args: str) -> List[str]:
    params = module.params
    command = [params["binary"]]
    if params["prefix"]:
        command += ["-p", params["prefix"]]
    return command + [*params["extra_args"], "-c", params["config_file"], *args]


def _run_dump(module: AnsibleModule) -> tuple:
    command = _nginx(module, "-T")
    rc, out, err = module.run_command(command)
    if rc != 0:
        module.fail_json(msg="nginx -T failed for %s, so nothing was changed: %s"
                         % (module.params["config_file"], err.strip() or out.strip()),
                         cmd=command, rc=rc, stderr=err)
    return out, err


def _version(module: AnsibleModule) -> str:
    _rc, out, err = module.run_command([module.params["binary"], "-v"])
    found = re.search(r"nginx/(\S+)", err + out)
    return found.group(1) if found else ""


def _files_with(texts: Dict[str, str], line: str) -> List[str]:
    wanted = line.strip()
    return [path for path, text in texts.items()
            if any(candidate.strip() == wanted for candidate in text.split("\n"))]


def _resolvers(module: AnsibleModule) -> List[str]:
    path = module.params["resolv_conf"]
    if not path or not os.path.exists(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as handle:
        return resolvers(handle.read())


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            binary=dict(type="path", default="/usr/sbin/nginx"),
            config_file=dict(type="path", default="/etc/nginx/nginx.conf"),
            prefix=dict(type="str", default=""),
            extra_args=dict(type="list", elements="str", default=[]),
            check_host=dict(type="str", default="127.0.0.1"),
            check_host_v6=dict(type="str", default="::1"),
            dropin_path=dict(type="path"),
            marker_line=dict(type="str"),
            resolv_conf=dict(type="path"),
            inspect=dict(type="bool", default=False),
            check=CHECK_SPEC,
        ),
        supports_check_mode=True,
    )
    params = module.params
    dump, stderr = _run_dump(module)
    try:
        config = load_dump(dump)
    except NginxConfigError as error:
        module.fail_json(msg="cannot read the nginx -T output of %s: %s" % (params["config_file"], error))
    servers: List[Dict[str, Any]] = []
    for server in config.servers:
        entry = server.as_dict()
        entry["endpoints"] = server_endpoints(entry, params["check_host"], params["check_host_v6"])
        servers.append(entry)
    resolver_files = config.http_directive_files.get("resolver", [])
    result: Dict[str, Any] = dict(
        changed=False, version=_version(module), main_file=config.main_file, files=list(config.files),
        servers=servers, http_resolver=any(path != params["dropin_path"] for path in resolver_files),
        files_with_marker=_files_with(config.texts, params["marker_line"]) if params["marker_line"] else [],
        warnings_seen=[line for line in stderr.splitlines() if "[warn]" in line],
        http_stapling_directives=config.http_stapling_directives,
        resolvers=_resolvers(module),
    )
    if params["inspect"] or params["check"]:
        # a certificate named by variables is chosen per handshake and cannot be read here
        paths = sorted({path for server in servers if server["ssl"] for path in server["certificates"] if "$" not in path})
        result["certificates"] = describe_certificate_files(module, paths, "ssl_certificate")
    if params["dropin_path"]:
        result["dropin_included"] = config.http_is_including(params["dropin_path"])
    if params["check"]:
        result.update(plan_and_check(module, "nginx", result, result["certificates"]))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
