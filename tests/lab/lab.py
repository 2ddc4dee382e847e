# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's command line: init, start, stop, status, revoke.

Run it with the venv's Python: `.venv/bin/python tests/lab/lab.py init`.
Every command prints the lab's status as JSON on stdout (errors go to
stderr with exit code 1). See tests/lab/README.md.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

try:
    from tests.lab import core, lab_pki, state as lab_state  # noqa: E402  (needs the path above)
    from tests.lab.processes import LabError  # noqa: E402
except ImportError as missing:  # cryptography: only in the venv
    sys.exit(f"lab.py: {missing}; run it with the venv's Python: .venv/bin/python tests/lab/lab.py")


def _components(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    try:
        return core.selected(names)
    except LabError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dir", type=Path, default=lab_state.DEFAULT_DIR,
                        help=f"lab directory (default {lab_state.DEFAULT_DIR})")
    common.add_argument("--base-port", type=int,
                        help="first of the lab's ports (init: default derived from --dir; "
                             "other commands: must match the lab's)")
    top = argparse.ArgumentParser(prog="lab.py", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init", parents=[common], help="build the PKI and the server configurations")
    init.add_argument("--force", action="store_true", help="stop and rebuild an existing lab")
    init.add_argument("--no-initial-revocation", action="store_true",
                      help="leave the `revoked` leaf good until `revoke revoked`")
    init.add_argument("--next-update-minutes", type=int, default=core.DEFAULT_NEXT_UPDATE_MINUTES,
                      help="nextUpdate of the responder's answers, in minutes from now")
    init.add_argument("--responder-workers", type=int, default=core.DEFAULT_RESPONDER_WORKERS,
                      help="openssl ocsp processes answering at once (-multi)")
    for name, help_text in (("start", "start components"), ("stop", "stop components")):
        command = commands.add_parser(name, parents=[common], help=help_text)
        command.add_argument("--only", type=_components, default=list(core.COMPONENTS),
                             help=f"comma-separated subset of {','.join(core.COMPONENTS)}")
    commands.add_parser("status", parents=[common], help="report components as JSON")
    revoke = commands.add_parser("revoke", parents=[common], help="revoke a leaf and restart the responder")
    revoke.add_argument("name", help=f"leaf name: {', '.join(lab_pki.LEAVES)}")
    revoke.add_argument("--reason", default="keyCompromise", choices=lab_pki.REVOCATION_REASONS)
    return top


def _check_base_port(lab: core.Lab, base_port: int | None) -> None:
    if base_port is None or not lab.exists:
        return
    current = lab.state()["base_port"]
    if base_port != current:
        raise LabError(f"the lab in {lab.directory} uses base port {current}, not {base_port}; "
                       f"run `lab.py init --force --base-port {base_port} --dir {lab.directory}` to move it")


def execute(arguments: argparse.Namespace) -> dict[str, Any]:
    lab = core.Lab(arguments.dir)
    if arguments.command == "init":
        lab.init(arguments.base_port, force=arguments.force,
                 revoke_initially=not arguments.no_initial_revocation,
                 next_update_minutes=arguments.next_update_minutes,
                 responder_workers=arguments.responder_workers)
        return lab.status()
    _check_base_port(lab, arguments.base_port)
    if arguments.command == "start":
        return lab.start(arguments.only)
    if arguments.command == "stop":
        return lab.stop(arguments.only)
    if arguments.command == "revoke":
        return lab.revoke(arguments.name, arguments.reason)
    return lab.status()


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        report = execute(arguments)
    except LabError as error:
        print(f"lab.py {arguments.command}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
