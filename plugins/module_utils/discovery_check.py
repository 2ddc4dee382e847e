# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The discovery modules' `check` option: plan and check the server just read, in the same call.

The server roles' audit makes this one read-only call per server instead of
discovery, inspection, staple_info, responder_info and crl_info round trips.
"""
from __future__ import annotations

import json
import traceback
from typing import Any, Dict, List, Mapping, Optional

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tlsops.ocsp.plugins.module_utils.module_common import (
    open_url_download,
    open_url_fetch,
    require_libraries,
)

try:
    from ansible_collections.tlsops.ocsp.plugins.module_utils import plan_servers, stapling_check
except ImportError:
    ENGINE_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    ENGINE_IMPORT_ERROR = None

# the argument spec of `check` (doc fragment tlsops.ocsp.stapling_check)
CHECK_SPEC: Dict[str, Any] = {
    "type": "dict",
    "options": {
        "settings": {"type": "dict", "required": True},
        "retries": {"type": "int", "default": 0},
        "retry_delay": {"type": "float", "default": 1},
        "timeout": {"type": "float", "default": 10},
    },
}


def plan_and_check(module: AnsibleModule, kind: str, discovery: Mapping[str, Any],
                   certificate_facts: List[Dict[str, Any]]) -> Dict[str, Any]:
    """`plan` (the stapling plan of this server) and `checked` (endpoints, responders, crls).

    `discovery` is the module's result so far, `certificate_facts` its inspection (certificate_info's entries).
    """
    require_libraries(module, ENGINE_IMPORT_ERROR, pyopenssl=True)
    options = module.params["check"]
    if options["retries"] < 0 or options["retry_delay"] < 0 or options["timeout"] <= 0:
        module.fail_json(msg="check: retries and retry_delay must be 0 or more and timeout more than 0 "
                             "(got %s, %s and %s)" % (options["retries"], options["retry_delay"], options["timeout"]))
    # the plan reads discovery as the roles' filter does: as JSON, the way the result leaves the module
    as_returned = json.loads(json.dumps([dict(discovery), certificate_facts]))
    try:
        plan = plan_servers.plan_for(kind, as_returned[0], as_returned[1], options["settings"])
    except KeyError as error:
        module.fail_json(msg="check.settings: the stapling plan of this %s needs %s, which is missing; pass every "
                             "setting its adapter plan_%s reads" % (kind, error, kind))
    except ValueError as error:
        module.fail_json(msg="check.settings: cannot plan stapling on this %s: %s" % (kind, error))
    checked = stapling_check.check_plan(plan, open_url_fetch, open_url_download, retries=options["retries"],
                                        retry_delay=options["retry_delay"], timeout=options["timeout"])
    return {"plan": plan, "checked": checked}
