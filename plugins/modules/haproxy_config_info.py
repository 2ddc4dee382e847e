#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: haproxy_config_info
short_description: "Internal: read the TLS binds and certificate files of the HAProxy configuration"
version_added: 0.1.0
description:
  - Internal helper of the P(tlsops.ocsp.haproxy_stapling#role) role; its interface may change without notice.
  - Validates the configuration with C(haproxy -c -f ...) and reads it as HAProxy loads it; every
    C(bind ... ssl) with its C(crt) files and directories and C(crt-list) entries; the stats sockets.
author:
  - tlsops maintainers (@tlsops)
options:
  binary:
    description: The haproxy program.
    type: path
    default: /usr/sbin/haproxy
  config_files:
    description: The configuration files or directories HAProxy is started with (its C(-f) arguments), in order.
    type: list
    elements: path
    default: [/etc/haproxy/haproxy.cfg]
  pid_file:
    description: The pid file of the running HAProxy, read to tell how it can be reloaded (RV(process)).
    type: path
    default: /run/haproxy.pid
  previous_pids:
    description:
      - The pids of the HAProxy instance before a reload (the plan's C(process.pids)); RV(process) then says
        whether the reload took effect (C(took_effect)).
    type: list
    elements: int
    default: []
  inspect:
    description: Also inspect every certificate file the TLS binds serve (RV(certificate_facts)).
    type: bool
    default: false
  updater_trial:
    description:
      - From HAProxy 2.8, ask HAProxy's own OCSP updater what it makes of each served certificate that has an
        OCSP URL (RV(updater_trial)), before relying on it.
      - A throwaway process of O(binary) loads those certificates with its updater on and the configuration's
        global C(ocsp-update.*), C(httpclient.*) and C(issuers-chain-path) lines, on an abstract socket, and is
        stopped after its first attempt. The running HAProxy and its files are not touched.
      - Needs O(inspect) (the certificates' OCSP URLs come from their facts).
    type: bool
    default: false
  trial_timeout:
    description: Seconds O(updater_trial) waits for HAProxy's first attempt on every certificate.
    type: float
    default: 10.0
extends_documentation_fragment:
  - tlsops.ocsp.attributes
  - tlsops.ocsp.stapling_check
  - tlsops.ocsp.attributes.info_module
"""

EXAMPLES = r"""
- name: Read what HAProxy serves
  tlsops.ocsp.haproxy_config_info:
    config_files: [/etc/haproxy/haproxy.cfg]
  register: haproxy_model
"""

RETURN = r"""
process:
  description:
    - The running HAProxy of this configuration (its master from the pid file, else from /proc by its C(-f)
      files), or null when none runs.
    - C(pid) (the master), C(pids) (those the pid file names), C(workers), C(pid_source) (C(pid_file) or
      C(proc)), C(pid_file) (its C(-p)), C(cmdline), C(master_worker) (C(-W), C(-Ws) or C(master-worker) in the
      global section), C(daemon) (C(-D) or C(daemon)), C(systemd_unit) (the service its cgroup names),
      C(started_by) (C(systemd), C(init_script) or C(hand)), C(started) (Unix time its newest process started),
      C(config_loaded) (false when the configuration files changed after that, so a reload had no effect) and,
      with O(previous_pids), C(took_effect).
  sample: {pid: 41, pids: [41], workers: [], pid_source: pid_file, pid_file: /run/haproxy.pid,
           cmdline: [/usr/sbin/haproxy, -f, /etc/haproxy/haproxy.cfg, -D, -p, /run/haproxy.pid],
           master_worker: false, daemon: true, systemd_unit: null, started_by: init_script,
           started: 1764900000.5, config_loaded: true}
  returned: always
  type: dict
version:
  description: HAProxy's version as C(major.minor).
  returned: always
  type: str
  sample: "2.6"
certificates:
  description: One entry per certificate file a TLS bind serves.
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/haproxy/certs/site.pem, ocsp_path: /etc/haproxy/certs/site.pem.ocsp, ocsp_exists: false,
            issuer_path: null, sni_filters: [www.example.com], crt_list: /etc/haproxy/crt-list.txt,
            addresses: ["*:443"], binds: ["frontend https (/etc/haproxy/haproxy.cfg line 20)"], ocsp_update: null}]
crt_lists:
  description: The text of every crt-list file, by path.
  returned: always
  type: dict
  sample: {/etc/haproxy/crt-list.txt: "site.pem www.example.com\n"}
admin_socket:
  description: The first UNIX stats socket with C(level admin), or V(null).
  returned: always
  type: str
  sample: /run/haproxy/admin.sock
stats_sockets:
  description: Every C(stats socket) line of the global section (address, path, level, mode, file, line).
  returned: always
  type: list
  elements: dict
  sample: [{address: /run/haproxy/admin.sock, path: /run/haproxy/admin.sock, level: admin, mode: "660"}]
binds:
  description: Every C(bind) line of frontends and listen sections.
  returned: always
  type: list
  elements: dict
  sample: [{section: frontend, name: https, addresses: ["*:443"], ssl: true, crt: [site.pem], crt_list: []}]
crt_base:
  description: The global C(crt-base), or V(null).
  returned: always
  type: str
  sample: /etc/haproxy/certs
ocsp_update_mode:
  description: The global C(ocsp-update.mode) (HAProxy 3.x), or V(null).
  returned: always
  type: str
  sample: null
updater_trial:
  description:
    - With O(updater_trial), HAProxy's own updater's verdict per certificate file after its first attempt
      (certificates it did not attempt within O(trial_timeout) are missing).
    - C(status) is HAProxy's C(Last Update Status (str)); C(ok) whether it would staple the answer; C(rejected)
      whether HAProxy got an answer and refused it (its own check, e.g. a response signed by a delegated
      responder certificate on HAProxy 3.0); C(row) the C(show ssl ocsp-updates) row.
  returned: when O(updater_trial) is true
  type: dict
  sample: {/etc/haproxy/certs/site.pem: {status: OCSP response check failure, ok: false, rejected: true,
           row: "Path: /etc/haproxy/certs/site.pem | Successes: 0 | Failures: 1 | Last Update Status (str): OCSP response check failure"}}
updater_trial_error:
  description: Why O(updater_trial) could not ask HAProxy (its throwaway process exited, or could not start).
  returned: when the trial could not run
  type: str
  sample: "a throwaway HAProxy with its OCSP updater on exited (1) before answering: ..."
updater_settings:
  description: The global C(ocsp-update.*) and C(httpclient.*) settings as written (HAProxy 2.8 and later).
  returned: always
  type: dict
  sample: {"ocsp-update.mindelay": "300", "httpclient.resolvers.prefer": "ipv4"}
issuers_chain_path:
  description: The global C(issuers-chain-path), or V(null).
  returned: always
  type: str
  sample: null
crt_stores:
  description:
    - The C(crt-store) sections (HAProxy 3.0) by name (V("") for the unnamed one), each with C(crt_base),
      C(key_base) and C(loads), its C(load) lines by alias (else by crt), with their keywords.
    - A certificate a bind serves through C(@store/alias) is in RV(certificates) with C(crt_store), C(alias),
      the load line's C(ocsp-update) as C(ocsp_update) and its C(ocsp) file as C(ocsp_path).
  returned: always
  type: dict
  sample: {web: {crt_base: /srv/web, key_base: null, loads: {site1: {crt: site1.pem, alias: site1,
           ocsp-update: "on", file: /etc/haproxy/haproxy.cfg, line: 9}}}}
config_files:
  description: The files read, in order.
  returned: always
  type: list
  elements: str
  sample: [/etc/haproxy/haproxy.cfg]
certificate_facts:
  description: With O(inspect), the facts of every certificate in every served file
    (as M(tlsops.ocsp.certificate_info) returns them). A file that cannot be read gives no entry and a
    warning naming it and the cause; the other files are still inspected.
  type: list
  elements: dict
  returned: when O(inspect) is true or O(check) is given
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
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy.discovery import ARGUMENT_SPEC, discover


def main() -> None:
    module = AnsibleModule(argument_spec=dict(ARGUMENT_SPEC, settings=SETTINGS_SPEC), supports_check_mode=True)
    module.exit_json(**discover(module, discovery_params(module, ARGUMENT_SPEC)))


if __name__ == "__main__":
    main()
