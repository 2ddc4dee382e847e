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
process:
  description:
    - The running master of this nginx (its title names the configuration file), read from /proc, or null when none runs. C(pid), C(systemd_unit) (the
      service its cgroup names, null outside one) and C(started_by) (C(systemd), C(init_script) or C(hand)). The
      role reloads through the service manager only when systemd runs it.
  returned: always
  type: dict
  sample: {pid: 812, systemd_unit: null, started_by: init_script}
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
    (as M(tlsops.ocsp.certificate_info) returns them). A file that cannot be read gives no entry and a
    warning naming it and the cause; the other files are still inspected.
  type: list
  elements: dict
  returned: when O(inspect) is true
responder_override:
  description:
    - With O(inspect), where the first OCSP URL of a served certificate does not answer from the host and a later
      one does (nginx asks only the first), the one URL a server-level override can name for every served
      certificate, with C(url), C(first) (the dead URLs) and C(certificates) (the files that need it). Only
      certificates with several OCSP URLs are asked. Null when none needs it, when those that do disagree, or when
      another served certificate does not name the URL among its own.
  type: dict
  returned: when O(inspect) is true
  sample: {"url": "http://ocsp2.example.org", "first": ["http://ocsp.example.org"], "certificates": ["/etc/ssl/site.pem"]}
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

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.check_glue import SETTINGS_SPEC, discovery_params
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.nginx.discovery import ARGUMENT_SPEC, discover


def main() -> None:
    module = AnsibleModule(argument_spec=dict(ARGUMENT_SPEC, settings=SETTINGS_SPEC), supports_check_mode=True)
    module.exit_json(**discover(module, discovery_params(module, ARGUMENT_SPEC)))


if __name__ == "__main__":
    main()
