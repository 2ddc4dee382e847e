# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() in this process, the way ansible-core's own module tests do.

The arguments are injected with `ansible.module_utils.testing.patch_module_args`
(ansible-core >= 2.19) or by patching `basic._ANSIBLE_ARGS` (older cores);
exit_json and fail_json raise instead of printing and exiting, so the test
gets the result dict. Every result must survive JSON encoding, as it must
when Ansible sends it back to the controller.
"""
from __future__ import annotations

import contextlib
import json
from typing import Any, Callable, Dict, Iterator
from unittest import mock

import pytest


class ModuleExit(Exception):
    """exit_json or fail_json was called; `result` is what the module returned."""

    def __init__(self, result: Dict[str, Any]) -> None:
        super().__init__(result)
        self.result = result


def _exit_json(_module: Any, **result: Any) -> None:
    raise ModuleExit(result)


def _fail_json(_module: Any, msg: str, **result: Any) -> None:
    raise ModuleExit(dict(result, msg=msg, failed=True))


@contextlib.contextmanager
def _module_args(args: Dict[str, Any]) -> Iterator[None]:
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core < 2.19
        from ansible.module_utils import basic
        from ansible.module_utils.common.text.converters import to_bytes
        with mock.patch.object(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))):
            yield
        return
    with patch_module_args(args):
        yield


@pytest.fixture
def run_module() -> Callable[..., Dict[str, Any]]:
    """run_module(main, check_mode=False, **args) -> the result dict (with failed=True on fail_json)."""
    basic = pytest.importorskip("ansible.module_utils.basic", reason="the modules run on ansible-core")

    def run(main: Callable[[], None], check_mode: bool = False, **args: Any) -> Dict[str, Any]:
        args["_ansible_check_mode"] = check_mode
        with _module_args(args), \
                mock.patch.object(basic.AnsibleModule, "exit_json", _exit_json), \
                mock.patch.object(basic.AnsibleModule, "fail_json", _fail_json):
            try:
                main()
            except ModuleExit as exit_:
                json.dumps(exit_.result)  # what Ansible would do with it; raises on bytes and the like
                return exit_.result
        raise AssertionError("the module returned without calling exit_json or fail_json")

    return run
