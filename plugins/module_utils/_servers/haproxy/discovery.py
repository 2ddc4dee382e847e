# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""haproxy_config_info's discovery as a function any module can call (Ansible glue, like check_glue.py).

discover() reads the options from the `params` it is given, never from
module.params (see _servers/nginx/discovery.py).
"""
from __future__ import annotations

from typing import Any, Dict, Mapping

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import config as haproxy_config
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import process as haproxy_process
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import updater_trial
from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.check_glue import CHECK_SPEC, plan_and_check
from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.module_helpers import inspect_certificate_files, require_program

# haproxy_config_info's options (documented there)
ARGUMENT_SPEC: Dict[str, Any] = {
    "binary": {"type": "path", "default": "/usr/sbin/haproxy"},
    "config_files": {"type": "list", "elements": "path", "default": ["/etc/haproxy/haproxy.cfg"]},
    "pid_file": {"type": "path", "default": "/run/haproxy.pid"},
    "previous_pids": {"type": "list", "elements": "int", "default": []},
    "inspect": {"type": "bool", "default": False},
    "updater_trial": {"type": "bool", "default": False},
    "trial_timeout": {"type": "float", "default": 10.0},
    "check": CHECK_SPEC,
}


def discover(module: AnsibleModule, params: Mapping[str, Any]) -> Dict[str, Any]:
    """haproxy_config_info's result for the options in `params` (ARGUMENT_SPEC, validated); fails the module
    through fail_json when the binary is not HAProxy, HAProxy rejects its configuration or the check cannot plan."""
    binary = params["binary"]
    paths = params["config_files"]
    arguments = [argument for path in paths for argument in ("-f", path)]
    require_program(module, binary, "binary", "HAProxy")
    rc, out, err = module.run_command([binary, "-v"])
    version = haproxy_config.parse_version(out) if rc == 0 else None
    if version is None:
        module.fail_json(msg="%s -v did not print a HAProxy version (exit %d: %s); set the binary option "
                             "to the haproxy program" % (binary, rc, (err or out).strip()))
    rc, out, err = module.run_command([binary, "-c", *arguments])
    if rc != 0:
        module.fail_json(msg="HAProxy rejects its configuration (%s -c %s, exit %d): %s; fix it before enabling "
                             "stapling" % (binary, " ".join(arguments), rc, (err or out).strip()))
    try:
        model = haproxy_config.discover(paths)
        crt_lists = {path: haproxy_config.read_text(path)
                     for path in sorted({entry["crt_list"] for entry in model["certificates"] if entry["crt_list"]})}
    except haproxy_config.HaproxyConfigError as error:
        module.fail_json(msg=str(error))
    result = dict(changed=False, version="%d.%d" % version, crt_lists=crt_lists, **model)
    # how the running process can be reloaded: master-worker or not, under systemd or not
    files = haproxy_config.config_files(paths)
    running = haproxy_process.running(params["pid_file"], paths, [haproxy_config.read_text(path) for path in files])
    if running is not None:
        # whether it loaded the configuration as it is now (False: a reload since the last change had no effect)
        running["config_loaded"] = haproxy_process.config_loaded(
            running, haproxy_process.newest_change(files + sorted(crt_lists)))
        if params.get("previous_pids"):
            running["took_effect"] = haproxy_process.took_effect(params["previous_pids"], running)
    result["process"] = running
    result["warnings"] = [] if any(bind["ssl"] for bind in model["binds"]) else [
        "HAProxy serves no TLS: no bind line with ssl in %s, so there is nothing to staple; add TLS binds "
        "(bind ... ssl crt ...) first, or leave HAProxy out" % ", ".join(paths)]
    if params["inspect"] or params["check"]:
        served = [entry["path"] for entry in model["certificates"]]
        result["certificate_facts"], unread = inspect_certificate_files(module, served, "crt")
        result["warnings"] += unread
    if params["updater_trial"]:
        result.update(_trial(params, result, version))
    if params["check"]:
        result.update(plan_and_check(module, "haproxy", result, result["certificate_facts"], params["check"]))
    return result


def _trial(params: Mapping[str, Any], result: Mapping[str, Any], version: Any) -> Dict[str, Any]:
    """HAProxy's own updater's verdict on each served certificate with an OCSP URL (updater_trial.py), from 2.8;
    a trial that cannot run gives no verdict and its error (the plan then keeps the refresher, and says why)."""
    if tuple(version) < (2, 8):
        return {"updater_trial": {}}
    facts = result.get("certificate_facts") or []
    paths = sorted({facts_of["path"] for facts_of in facts if facts_of.get("ocsp_uris")})
    if not paths:
        return {"updater_trial": {}}
    lines = updater_trial.global_lines(result.get("updater_settings") or {}, result.get("issuers_chain_path"))
    try:
        return {"updater_trial": updater_trial.run(params["binary"], paths, lines, params["trial_timeout"])}
    except (updater_trial.TrialError, OSError) as error:
        return {"updater_trial": {}, "updater_trial_error": str(error)}
