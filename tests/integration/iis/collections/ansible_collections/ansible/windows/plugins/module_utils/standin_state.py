# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulated Windows host: one JSON file, locked while a module changes it.

Test-only. Layout of the file:

    {"registry": {"HKLM:\\...\\SCHANNEL": {"Name": {"type": "dword", "data": 1}}},
     "services": {"HTTP": {"state": "running", "depended_by": ["W3SVC"]}},
     "bindings": [{"site": ..., "binding_information": "*:443:www", "ssl_flags": 1, ...}],
     "reboots": 0,
     "log": [{"module": "win_service", "service": "HTTP", "action": "restarted"}]}
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
from typing import Any, Iterator

STATE_ENV = "TLSOPS_WINDOWS_STANDIN_STATE"

# Long hive names that win_regedit accepts, mapped to the short form it prints.
HIVE_ALIASES = {
    "HKEY_LOCAL_MACHINE": "HKLM:",
    "HKEY_CURRENT_USER": "HKCU:",
    "HKEY_CLASSES_ROOT": "HKCR:",
    "HKEY_USERS": "HKU:",
    "HKEY_CURRENT_CONFIG": "HKCC:",
}


class StandinError(Exception):
    """The stand-in cannot emulate what was asked; the message says why."""


def state_path() -> str:
    path = os.environ.get(STATE_ENV)
    if not path:
        raise StandinError(f"{STATE_ENV} is not set: the ansible.windows stand-in needs a state file")
    return path


@contextlib.contextmanager
def host_state(write: bool) -> Iterator[dict[str, Any]]:
    """Yield the host state; when `write`, save it back under an exclusive lock."""
    path = state_path()
    with open(path + ".lock", "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(path, encoding="utf-8") as handle:
                state = json.load(handle)
        except FileNotFoundError:
            state = {}
        for key, empty in (("registry", {}), ("services", {}), ("bindings", []), ("log", [])):
            state.setdefault(key, empty)
        state.setdefault("reboots", 0)
        yield state
        if write:
            temporary = f"{path}.{os.getpid()}"
            with open(temporary, "w", encoding="utf-8") as handle:
                json.dump(state, handle, indent=1, sort_keys=True)
            os.replace(temporary, path)


def registry_key_name(path: str) -> str:
    """`HKEY_LOCAL_MACHINE\\X` and `HKLM:\\X` both become `HKLM:\\X` (no trailing backslash)."""
    parts = [part for part in path.replace("/", "\\").split("\\") if part]
    hive = HIVE_ALIASES.get(parts[0].upper(), parts[0].upper().rstrip(":") + ":")
    return "\\".join([hive] + parts[1:])


def find_registry_key(registry: dict[str, Any], path: str) -> str | None:
    """The stored spelling of `path`: registry key names are case-insensitive."""
    wanted = registry_key_name(path).casefold()
    return next((key for key in registry if key.casefold() == wanted), None)
