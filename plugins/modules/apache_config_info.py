#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: apache_config_info
short_description: "Internal: read the TLS virtual hosts of Apache httpd, its stapling settings and certificates"
version_added: 0.1.0
description:
  - Internal helper of the C(apache_stapling) role (its discovery and inspection phases in one call); its
    options and results may change between minor releases. Runs C(apachectl -t) first; when the
    configuration is valid, asks Apache where each virtual host starts (C(-t -D DUMP_VHOSTS)),
    and reads the certificate directives of each C(<VirtualHost>) block from there.
  - Private instances are reached through the task's C(environment), for example
    C(APACHE_CONFDIR) with Debian's C(apache2ctl).
  - A configuration that fails C(apachectl -t) is not an error of this module; it returns
    RV(config_ok=false) and Apache's message, so that the caller can stop before it changes anything.
options:
  ctl:
    description: Apache's control command (C(apache2ctl) on Debian, C(apachectl) on RHEL).
    type: str
    default: apache2ctl
  include_line:
    description: A marked include line; RV(files_with_include) lists the virtual host files holding it.
    type: str
    default: ''
  config_dir:
    description: The configuration directory the role writes into; RV(server_root_matches) says whether
      Apache's ServerRoot is that directory.
    type: path
  inspect:
    description: Also inspect every certificate file the TLS virtual hosts name (RV(certificates)).
    type: bool
    default: false
  state_path:
    description: The role's record of the modules it enabled (a JSON object whose C(modules) is a list of names); read into RV(recorded_modules).
    type: path
extends_documentation_fragment:
  - tlsops.ocsp.attributes
  - tlsops.ocsp.stapling_check
  - tlsops.ocsp.attributes.info_module
author:
  - tlsops maintainers (@tlsops)
"""

EXAMPLES = r"""
- name: Read a private Apache instance
  tlsops.ocsp.apache_config_info:
    ctl: apache2ctl
  environment:
    APACHE_CONFDIR: /srv/apache-lab
  register: apache
"""

RETURN = r"""
process:
  description:
    - The running master of this Apache (its pid file names it), read from /proc, or null when none runs. C(pid), C(systemd_unit) (the
      service its cgroup names, null outside one) and C(started_by) (C(systemd), C(init_script) or C(hand)). The
      role reloads through the service manager only when systemd runs it.
  returned: always
  type: dict
  sample: {pid: 812, systemd_unit: null, started_by: init_script}
config_ok:
  description: Whether C(apachectl -t) accepts the configuration.
  type: bool
  returned: always
config_messages:
  description: What C(apachectl -t) printed (Apache's own words, errors and warnings).
  type: str
  returned: always
version:
  description: Apache's version, such as C(2.4.62).
  type: str
  returned: always
server_root:
  description: ServerRoot, against which relative paths are resolved.
  type: str
  returned: when RV(config_ok)
pid_file:
  description: Where the running Apache keeps its process id (PidFile).
  type: str
  returned: when RV(config_ok)
loaded_modules:
  description: Module identifiers Apache loads (C(ssl_module), C(socache_shmcb_module)).
  type: list
  elements: str
  returned: when RV(config_ok)
vhosts:
  description:
    - One entry per C(<VirtualHost>) block, in Apache's order, with C(path), C(line) (of the opening line),
      C(addresses), C(host) (null for a wildcard), C(port), C(server_name), C(server_aliases),
      C(ssl_engine), C(certificate_file), C(chain_file) (absolute paths), C(stapling_directives) (the block's
      own SSLUseStapling and SSLStapling* lines, each with C(name) in lower case, C(args), C(file), C(line)),
      C(include_present), C(own_ca) (the block sets SSLCACertificateFile or SSLCACertificatePath) and
      C(verify_client) (its SSLVerifyClient in lower case, V(none) when unset).
  type: list
  elements: dict
  returned: when RV(config_ok)
server_directives:
  description: SSLUseStapling, SSLStapling*, SSLCACertificateFile and SSLCACertificatePath lines in server context
    (outside every C(<VirtualHost>)), read from the main configuration file and what it includes, each with
    C(name) in lower case, C(args), C(file), C(line).
  type: list
  elements: dict
  returned: when RV(config_ok)
server_root_matches:
  description: Whether ServerRoot is O(config_dir) (true without O(config_dir)).
  type: bool
  returned: when RV(config_ok)
certificates:
  description: With O(inspect), the facts of every certificate in every file the TLS virtual hosts name
    (as M(tlsops.ocsp.certificate_info) returns them). A file that cannot be read gives no entry and a
    warning naming it and the cause; the other files are still inspected.
  type: list
  elements: dict
  returned: when O(inspect) is true and RV(config_ok)
responder_override:
  description:
    - With O(inspect), where the first OCSP URL of a served certificate does not answer from the host and a later
      one does (Apache asks only the first), the one URL a server-level override can name for every served
      certificate, with C(url), C(first) (the dead URLs) and C(certificates) (the files that need it). Only
      certificates with several OCSP URLs are asked. Null when none needs it, when those that do disagree, or when
      another served certificate does not name the URL among its own.
  type: dict
  returned: when O(inspect) is true
  sample: {"url": "http://ocsp2.example.org", "first": ["http://ocsp.example.org"], "certificates": ["/etc/ssl/site.pem"]}
issuers:
  description:
    - With O(inspect), for each certificate file whose leaf's issuer is neither in it nor in the chain file
      served with it (mod_ssl then staples nothing, AH02217), the issuer found elsewhere, its signature on
      the leaf verified and a CA. V(source) is the file on the host it came from (another virtual host's
      certificate or chain file) or the leaf's CA Issuers URL it was downloaded from; V(pem) is the issuer
      certificate, null when none was found (V(tried) then says which URLs failed and why); V(subject) is the
      leaf's issuer name.
  type: dict
  returned: when O(inspect) is true and RV(config_ok)
  sample:
    /etc/ssl/example.org/cert.pem:
      source: /etc/ssl/example.net/fullchain.pem
      subject: CN=Example Intermediate CA,O=Example
      pem: "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"
recorded_modules:
  description: The modules O(state_path) records as enabled by the role (empty when the file is missing).
  type: list
  elements: str
  returned: always
files_with_include:
  description: Virtual host files holding O(include_line) on a line of its own.
  type: list
  elements: str
  returned: when RV(config_ok)
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
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.apache.discovery import ARGUMENT_SPEC, discover


def main() -> None:
    module = AnsibleModule(argument_spec=dict(ARGUMENT_SPEC, settings=SETTINGS_SPEC), supports_check_mode=True)
    module.exit_json(**discover(module, discovery_params(module, ARGUMENT_SPEC)))


if __name__ == "__main__":
    main()
