# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nginx_config_info's discovery as a function any module can call (Ansible glue, like check_glue.py).

discover() reads the options from the `params` it is given, never from
module.params, so one module can discover several servers, each with options
of its own (validated with check_glue.server_params against ARGUMENT_SPEC).
"""
from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Mapping, Tuple

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.check_glue import CHECK_SPEC, plan_and_check
from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.module_helpers import (
    inspect_certificate_files,
    open_url_fetch,
    require_program,
)
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import responder_choice
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import server_processes
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.nginx.config import (
    INIT_SCRIPT,
    NginxConfigError,
    load_dump,
    resolvers,
    server_endpoints,
)

# nginx_config_info's options (documented there)
ARGUMENT_SPEC: Dict[str, Any] = {
    "binary": {"type": "path", "default": "/usr/sbin/nginx"},
    "config_file": {"type": "path", "default": "/etc/nginx/nginx.conf"},
    "prefix": {"type": "str", "default": ""},
    "extra_args": {"type": "list", "elements": "str", "default": []},
    "check_host": {"type": "str", "default": "127.0.0.1"},
    "check_host_v6": {"type": "str", "default": "::1"},
    "dropin_path": {"type": "path"},
    "marker_line": {"type": "str"},
    "resolv_conf": {"type": "path"},
    "inspect": {"type": "bool", "default": False},
    "check": CHECK_SPEC,
}

DEFAULT_CONFIG = "/etc/nginx/nginx.conf"  # the system instance's, which its service and init script start


def _nginx(params: Mapping[str, Any], *args: str) -> List[str]:
    command = [params["binary"]]
    if params["prefix"]:
        command += ["-p", params["prefix"]]
    return command + [*params["extra_args"], "-c", params["config_file"], *args]


def _run_dump(module: AnsibleModule, params: Mapping[str, Any]) -> Tuple[str, str]:
    command = _nginx(params, "-T")
    rc, out, err = module.run_command(command)
    if rc != 0:
        module.fail_json(msg="nginx -T failed for %s, so nothing was changed: %s"
                         % (params["config_file"], err.strip() or out.strip()),
                         cmd=command, rc=rc, stderr=err)
    return out, err


def _version(module: AnsibleModule, binary: str) -> str:
    _rc, out, err = module.run_command([binary, "-v"])
    found = re.search(r"nginx/(\S+)", err + out)
    return found.group(1) if found else ""


def _files_with(texts: Dict[str, str], line: str) -> List[str]:
    wanted = line.strip()
    return [path for path, text in texts.items()
            if any(candidate.strip() == wanted for candidate in text.split("\n"))]


def _resolvers(path: str) -> List[str]:
    if not path or not os.path.exists(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as handle:
        return resolvers(handle.read())


def error_logs(texts: Mapping[str, str], extra_args: List[str], prefix: str) -> List[str]:
    """The files nginx writes its errors to: `-e`, and every error_log directive (syslog and stderr are no
    files); Debian's compiled-in default where none is named."""
    named = [extra_args[index + 1] for index, word in enumerate(extra_args[:-1]) if word == "-e"]
    for text in texts.values():
        named += re.findall(r"^\s*error_log\s+([^\s;]+)", text, flags=re.MULTILINE)
    files = [path if os.path.isabs(path) else os.path.join(prefix or "/usr/share/nginx", path)
             for path in named if not path.startswith(("syslog:", "stderr", "memory:"))]
    return list(dict.fromkeys(files)) or ["/var/log/nginx/error.log"]


def discover(module: AnsibleModule, params: Mapping[str, Any]) -> Dict[str, Any]:
    """nginx_config_info's result for the options in `params` (ARGUMENT_SPEC, validated); fails the module
    through fail_json when nginx rejects its configuration or the check cannot plan."""
    require_program(module, params["binary"], "binary", "nginx")
    dump, stderr = _run_dump(module, params)
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
        changed=False, version=_version(module, params["binary"]), main_file=config.main_file,
        files=list(config.files), servers=servers,
        http_resolver=any(path != params["dropin_path"] for path in resolver_files),
        files_with_marker=_files_with(config.texts, params["marker_line"]) if params["marker_line"] else [],
        warnings_seen=[line for line in stderr.splitlines() if "[warn]" in line],
        error_logs=error_logs(config.texts, list(params["extra_args"]), params["prefix"]),
        http_stapling_directives=config.http_stapling_directives,
        resolvers=_resolvers(params["resolv_conf"]),
        warnings=[] if any(server["ssl"] for server in servers) else [
            "nginx serves no TLS: no server block with ssl (a listen ... ssl line) in %s and the files it "
            "includes, so there is nothing to staple; add TLS server blocks first, or leave nginx out"
            % params["config_file"]],
    )
    if params["inspect"] or params["check"]:
        # a certificate named by variables is chosen per handshake and cannot be read here
        paths = sorted({path for server in servers if server["ssl"] for path in server["certificates"] if "$" not in path})
        result["certificates"], unread = inspect_certificate_files(module, paths, "ssl_certificate")
        result["warnings"] += unread
        # nginx asks only a certificate's first OCSP URL: where it is dead and another answers, the role's
        # ssl_stapling_responder (asked only for certificates with several URLs)
        result["responder_override"] = responder_choice.override(paths, open_url_fetch)
    # who runs the master (systemd or not) decides how it is reloaded (stapling_plan.reload_method)
    result["process"] = server_processes.start_facts(
        server_processes.running_master(["nginx"], config_file=params["config_file"], default_config=DEFAULT_CONFIG),
        system_instance=not params["prefix"] and params["config_file"] == DEFAULT_CONFIG, init_script=INIT_SCRIPT)
    if params["dropin_path"]:
        result["dropin_included"] = config.http_is_including(params["dropin_path"])
    if params["check"]:
        result.update(plan_and_check(module, "nginx", result, result["certificates"], params["check"]))
    return result
