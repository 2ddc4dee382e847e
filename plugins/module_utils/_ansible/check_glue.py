# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The check phase as the modules run it: on the engine's stapling_check, with Ansible's HTTP transports.

stapling_check_info checks the endpoints of a plan the controller made (the
roles' enable); the discovery modules' `check` option plans on the host and
checks in the same call (the roles' audit: one read-only call per server).
"""
from __future__ import annotations

import json
import traceback
from types import ModuleType
from typing import Any, Dict, List, Mapping, Tuple

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.module_helpers import (
    open_url_download,
    open_url_fetch,
    require_libraries,
)

# how long and how often every check call handshakes (doc fragment tlsops.ocsp.stapling_check.check_options)
CHECK_OPTIONS: Dict[str, Dict[str, Any]] = {
    "retries": {"type": "int", "default": 0},
    "retry_delay": {"type": "float", "default": 1},
    "timeout": {"type": "float", "default": 10},
}
# the discovery modules' `check` option (doc fragment tlsops.ocsp.stapling_check)
CHECK_SPEC: Dict[str, Any] = {
    "type": "dict",
    "options": dict(CHECK_OPTIONS, settings={"type": "dict", "required": True}),
}


def server_params(module: AnsibleModule, spec: Mapping[str, Any], given: Mapping[str, Any],
                  prefix: str) -> Dict[str, Any]:
    """`given` validated against the argument spec `spec` (options without aliases) as AnsibleModule validates
    its own: defaults filled, types converted; fails naming each option with `prefix` ("nginx." for nginx.binary)."""
    validator = ArgumentSpecValidator({prefix + name: option for name, option in spec.items()})
    result = validator.validate({prefix + name: value for name, value in given.items()})
    errors = result.errors.errors  # the list: AnsibleValidationErrorMultiple itself is always true
    if errors:
        # as AnsibleModule words its own, with every error rather than the first
        module.fail_json(msg="; ".join(("unsupported parameters: " if isinstance(error, UnsupportedError) else "")
                                       + error.error_message for error in errors))
    return {name[len(prefix):]: value for name, value in result.validated_parameters.items()}


# the discovery modules' `settings` option: the server roles pass their settled settings as one value
SETTINGS_SPEC: Dict[str, Any] = {"type": "dict"}


def discovery_params(module: AnsibleModule, spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """A discovery module's options: its own, or, when `settings` is given, those its `discovery` key holds (the
    server_settings mapping), with the audit's `check` where the settings say audit."""
    settings = module.params.get("settings")
    if not settings:
        return module.params
    if not isinstance(settings.get("discovery"), dict):
        module.fail_json(msg="settings must be the result of the tlsops.ocsp.server_settings filter (it has no "
                             "discovery options); pass it unchanged, or set this module's own options instead")
    given = dict(settings["discovery"])
    if settings.get("audit"):
        given["check"] = dict(settings.get("check") or {}, settings=settings)
    return server_params(module, spec, given, "settings.discovery.")


def _check_engine(module: AnsibleModule) -> Tuple[ModuleType, ModuleType, ModuleType]:
    """registry, stapling_check and diagnosis, imported at first use: a run without a check never loads the
    handshake side (staple, tls, pyOpenSSL); fails the module cleanly when a library is missing."""
    try:
        from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import registry
        from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import diagnosis
        from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import stapling_check
    except ImportError:
        require_libraries(module, traceback.format_exc(), pyopenssl=True)
        raise  # not reached: require_libraries failed the module
    require_libraries(module, None, pyopenssl=True)
    return registry, stapling_check, diagnosis


def check_endpoints(module: AnsibleModule, planned: List[Mapping[str, Any]], options: Mapping[str, Any],
                    prefix: str = "") -> Dict[str, List[Dict[str, Any]]]:
    """stapling_check.check_planned with the CHECK_OPTIONS in `options` (named with `prefix` in messages)."""
    unused_registry, stapling_check, diagnosis = _check_engine(module)
    if options["retries"] < 0 or options["retry_delay"] < 0 or options["timeout"] <= 0:
        module.fail_json(msg="%sretries and %sretry_delay must be 0 or more and %stimeout more than 0 (got %s, %s "
                             "and %s)" % (prefix, prefix, prefix, options["retries"], options["retry_delay"],
                                          options["timeout"]))
    return stapling_check.check_planned(planned, open_url_fetch, open_url_download, retries=options["retries"],
                                        retry_delay=options["retry_delay"], timeout=options["timeout"],
                                        diagnose=diagnosis.diagnose_all)


def plan_and_check(module: AnsibleModule, kind: str, discovery: Mapping[str, Any],
                   certificate_facts: List[Dict[str, Any]], options: Mapping[str, Any]) -> Dict[str, Any]:
    """`plan` (the stapling plan of this server) and `checked` (endpoints, responders, crls).

    `discovery` is the module's result so far, `certificate_facts` its inspection (certificate_info's entries),
    `options` the value of the `check` option (CHECK_SPEC).
    """
    registry, unused_stapling_check, unused_diagnosis = _check_engine(module)
    # the plan reads discovery as the roles' filter does: as JSON, the way the result leaves the module
    as_returned = json.loads(json.dumps([dict(discovery), certificate_facts]))
    try:
        plan = registry.plan_for(kind, as_returned[0], as_returned[1], options["settings"])
    except KeyError as error:
        module.fail_json(msg="check.settings: the stapling plan of this %s needs %s, which is missing; pass every "
                             "setting its adapter (_servers/%s/adapter.py) reads" % (kind, error, kind))
    except ValueError as error:
        module.fail_json(msg="check.settings: cannot plan stapling on this %s: %s" % (kind, error))
    return {"plan": plan, "checked": check_endpoints(module, plan["endpoints"], options, prefix="check.")}
