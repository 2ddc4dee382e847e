# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""apache_config_info's discovery as a function any module can call (Ansible glue, like check_glue.py).

discover() reads the options from the `params` it is given, never from
module.params (see _servers/nginx/discovery.py).
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Tuple

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.apache.config import (
    INIT_SCRIPT,
    ApacheConfigError,
    describe_vhosts,
    is_stapling_or_ca_store,
    is_tls,
    parse_config_file,
    parse_loaded_modules,
    parse_run_config,
    parse_version,
    server_directives,
)
from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.check_glue import CHECK_SPEC, plan_and_check
from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.module_helpers import (
    inspect_certificate_files,
    open_url_download,
    open_url_fetch,
)
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import certificates, issuer_lookup, responder_choice
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import server_processes

# apache_config_info's options (documented there)
ARGUMENT_SPEC: Dict[str, Any] = {
    "ctl": {"type": "str", "default": "apache2ctl"},
    "include_line": {"type": "str", "default": ""},
    "state_path": {"type": "path"},
    "config_dir": {"type": "path"},
    "inspect": {"type": "bool", "default": False},
    "check": CHECK_SPEC,
}


def _ctl(module: AnsibleModule, ctl: str, *args: str) -> Tuple[int, str, str]:
    """(rc, stdout, stderr) of Apache's control command."""
    return module.run_command([ctl, *args])


def _ctl_output(module: AnsibleModule, ctl: str, *args: str) -> str:
    """What the control command printed, both streams: Apache writes some dumps to stderr."""
    unused_rc, out, err = _ctl(module, ctl, *args)
    return out + err


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        return handle.read()


def _files_with(paths: List[str], line: str) -> List[str]:
    wanted = line.strip()
    return [path for path in paths if any(candidate.strip() == wanted for candidate in _read_text(path).splitlines())]


def _recorded_modules(module: AnsibleModule, path: str) -> List[str]:
    if not path or not os.path.exists(path):
        return []
    try:
        return [str(name) for name in json.loads(_read_text(path)).get("modules", [])]
    except (ValueError, AttributeError) as error:
        module.fail_json(msg="%s is the role's record of the modules it enabled, but it is not the JSON the role "
                             "writes (%s); remove it, then disable by hand what the role enabled" % (path, error))


def _describe(module: AnsibleModule, params: Mapping[str, Any], main_file: str) -> Dict[str, Any]:
    """Everything but the configuration test, for a configuration Apache accepts."""
    ctl = params["ctl"]
    settings, defines = parse_run_config(_ctl_output(module, ctl, "-t", "-D", "DUMP_RUN_CFG"))
    server_root = settings.get("ServerRoot", "")
    modules = _ctl_output(module, ctl, "-M")
    rc, dump, err = _ctl(module, ctl, "-t", "-D", "DUMP_VHOSTS")
    if rc != 0:
        module.fail_json(msg="%s -t -D DUMP_VHOSTS failed: %s" % (ctl, err.strip() or dump.strip()))
    variables = dict(os.environ)
    variables.update(defines)
    include_line = params["include_line"]
    try:
        vhosts = describe_vhosts(dump, _read_text, server_root, variables, include_line)
    except (ApacheConfigError, OSError) as error:
        module.fail_json(msg="cannot read the virtual hosts Apache names: %s" % error)
    for vhost in vhosts:
        # edit the file a sites-enabled link points at, never replace the link
        vhost["path"] = os.path.realpath(vhost["path"])
    files = sorted({vhost["path"] for vhost in vhosts})
    config_dir = params["config_dir"]
    error_log = settings.get("Main ErrorLog", "")
    result = dict(server_root=server_root, pid_file=settings.get("PidFile", ""),
                  # where mod_ssl says why it staples nothing (a piped log is no file to read)
                  error_logs=[error_log] if error_log and not error_log.startswith("|") else [],
                  loaded_modules=parse_loaded_modules(modules), vhosts=vhosts,
                  server_directives=server_directives(
                      main_file, _read_text, server_root, variables, wanted=is_stapling_or_ca_store),
                  server_root_matches=not config_dir or os.path.realpath(server_root) == os.path.realpath(config_dir),
                  files_with_include=_files_with(files, include_line) if include_line else [],
                  warnings=[] if any(is_tls(vhost) for vhost in vhosts) else [
                      "Apache serves no TLS: no virtual host with SSLCertificateFile (and SSLEngine not off), so "
                      "there is nothing to staple; add TLS virtual hosts first, or leave Apache out"])
    # who runs the master (systemd or not) decides how it is reloaded (stapling_plan.reload_method)
    result["process"] = server_processes.start_facts(
        server_processes.running_master(["apache2", "httpd"], pid_file=result["pid_file"] or None, config_option="-d",
                                        config_file=None), system_instance=result["server_root_matches"],
        init_script=INIT_SCRIPT)
    if params["inspect"] or params["check"]:
        paths = sorted({vhost["certificate_file"] for vhost in vhosts if is_tls(vhost) and "$" not in vhost["certificate_file"]})
        result["certificates"], unread = inspect_certificate_files(module, paths, "SSLCertificateFile")
        result["warnings"] += unread
        # mod_ssl staples only with the issuer in the served chain or its CA store (AH02217)
        served: Dict[str, List[str]] = {path: [] for path in paths}
        for vhost in vhosts:
            if vhost["certificate_file"] in served and vhost.get("chain_file"):
                served[vhost["certificate_file"]].append(vhost["chain_file"])
        chains = [name for files in served.values() for name in files]
        result["issuers"] = issuer_lookup.missing_issuers(served, paths + chains, open_url_download)
        # mod_ssl asks only a certificate's first OCSP URL: where it is dead and another answers, the role's
        # SSLStaplingForceURL (asked only for certificates with several URLs)
        found = [cert for entry in result["issuers"].values() if entry["pem"]
                 for cert in certificates.load_certificates(entry["pem"].encode("ascii"), entry["source"])]
        result["responder_override"] = responder_choice.override(paths, open_url_fetch, extra_issuers=found)
    return result


def discover(module: AnsibleModule, params: Mapping[str, Any]) -> Dict[str, Any]:
    """apache_config_info's result for the options in `params` (ARGUMENT_SPEC, validated); fails the module
    through fail_json when the control command is missing or the check cannot plan."""
    ctl = params["ctl"]
    if not module.get_bin_path(ctl):
        module.fail_json(msg="%s was not found; is Apache httpd installed? Set the ctl option to its control "
                             "command" % ctl)
    rc, out, err = _ctl(module, ctl, "-t")
    compiled = _ctl_output(module, ctl, "-V")
    result: Dict[str, Any] = dict(changed=False, config_ok=rc == 0, config_messages=(err + out).strip(),
                                  version=parse_version(compiled),
                                  recorded_modules=_recorded_modules(module, params["state_path"]))
    if rc == 0:
        result.update(_describe(module, params, parse_config_file(compiled) or "apache2.conf"))
    if params["check"]:
        result.update(plan_and_check(module, "apache", result, result.get("certificates", []), params["check"]))
    return result
