#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: config_lock
short_description: "Internal: hold a lock on a server's configuration from configure to check"
version_added: 0.1.0
description:
  - Internal helper of the server roles, so that two runs on one host (an AWX schedule that overlaps a manual
    run, two operators) do not change, validate and reload the same server at once. The second run waits,
    then sees what the first one left and changes nothing.
  - O(state=locked) creates the lock file exclusively and returns RV(token); it waits at most O(wait) seconds
    for another run's lock. A lock older than O(hold) seconds is stale (its run died) and is taken over.
  - O(state=unlocked) removes the lock when O(token) still holds it.
  - The lock is taken in check mode too (a check run reads what a real run is changing), and the module
    always reports C(changed=false), as the lock is not a change to the host's configuration.
options:
  name:
    description: What is locked, usually the server kind and its main configuration file; it names the lock file.
    type: str
    required: true
  directory:
    description: Where the lock files are kept.
    type: path
    default: /run/lock/tlsops-ocsp
  state:
    description: Take the lock or give it back.
    type: str
    choices: [locked, unlocked]
    default: locked
  holder:
    description: Who takes the lock, as another run's message will name it (host, user, playbook).
    type: str
    default: ""
  wait:
    description: Seconds to wait for another run's lock (O(state=locked)).
    type: int
    default: 600
  hold:
    description: Seconds after which a lock that was not given back is stale.
    type: int
    default: 1800
  token:
    description: RV(token) of the O(state=locked) call (O(state=unlocked)).
    type: str
    default: ""
extends_documentation_fragment:
  - tlsops.ocsp.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
author:
  - tlsops maintainers (@tlsops)
"""

EXAMPLES = r"""
- name: Take the lock on this nginx's configuration
  tlsops.ocsp.config_lock:
    name: nginx-/etc/nginx/nginx.conf
    holder: "{{ inventory_hostname }} (operator run)"
  register: lock

- name: Give it back
  tlsops.ocsp.config_lock:
    name: nginx-/etc/nginx/nginx.conf
    state: unlocked
    token: "{{ lock.token }}"
"""

RETURN = r"""
path:
  description: The lock file.
  type: str
  returned: always
token:
  description: What gives the lock back (O(state=unlocked)).
  type: str
  returned: O(state=locked)
waited:
  description: Seconds spent waiting for another run's lock.
  type: float
  returned: O(state=locked)
released:
  description: Whether the lock was held by O(token) and is now removed.
  type: bool
  returned: O(state=unlocked)
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import config_lock


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            directory=dict(type="path", default=config_lock.LOCK_DIR),
            state=dict(type="str", choices=["locked", "unlocked"], default="locked"),
            holder=dict(type="str", default=""),
            wait=dict(type="int", default=600),
            hold=dict(type="int", default=1800),
            token=dict(type="str", default="", no_log=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    path = config_lock.lock_path(params["directory"], params["name"])
    if params["state"] == "unlocked":
        module.exit_json(changed=False, path=path, released=config_lock.release(path, params["token"]))
    if params["wait"] < 0 or params["hold"] <= 0:
        module.fail_json(msg="wait must be 0 or more and hold more than 0 (got %d and %d)"
                             % (params["wait"], params["hold"]))
    try:
        record = config_lock.acquire(path, params["holder"], params["hold"], params["wait"])
    except config_lock.LockTimeout as error:
        module.fail_json(msg=str(error), path=path)
    except OSError as error:
        module.fail_json(msg="cannot create the lock file %s: %s; make its directory (option directory) writable"
                             % (path, error.strerror), path=path)
    module.exit_json(changed=False, path=path, token=record["token"], waited=record["waited"])


if __name__ == "__main__":
    main()
