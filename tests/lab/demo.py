# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`: the collection's main job, end to end, on a lab on this machine.

Builds a fresh lab (root and intermediate CA, leaves, a real `openssl ocsp`
responder, a private nginx, apache2 and haproxy serving the leaves with
stapling off), runs `tlsops.ocsp.enable` and then `tlsops.ocsp.audit`
against localhost, and prints the audit summary and where the report lies.
Running it again rebuilds the lab and shows the same story.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.lab import core, role_vars, state as lab_state  # noqa: E402  (needs the path above)
from tests.lab.processes import LabError  # noqa: E402
from tests.support import ansible_env  # noqa: E402


def fresh_lab(directory: Path) -> core.Lab:
    """A rebuilt, started lab; the `revoked` leaf stays good so the demo's story is the happy path."""
    lab = core.Lab(directory)
    lab.rebuild_and_start(revoke_initially=False)
    return lab


def write_inventory(state: dict[str, Any], path: Path) -> Path:
    """localhost, with the server roles pointed at the lab's private instances (JSON is valid YAML)."""
    host = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "stapling_servers": ["nginx", "apache", "haproxy"],
        **role_vars.nginx(state),
        **role_vars.apache(state),
        **role_vars.haproxy(state, haproxy_stapling_refresher_python=sys.executable),
    }
    path.write_text(json.dumps({"all": {"hosts": {"localhost": host}}}, indent=2) + "\n")
    return path


def playbook(name: str, inventory: Path, env: dict[str, str], *extra: str) -> int:
    print(f"\n=== ansible-playbook tlsops.ocsp.{name}", flush=True)
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
               f"tlsops.ocsp.{name}", *extra]
    return subprocess.run(command, env=env, check=False).returncode


def print_report(report_dir: Path) -> None:
    report = json.loads((report_dir / "ocsp-audit.json").read_text())
    print("\n=== Audit summary")
    print(f"  {'server':7} {'endpoint':16} {'server name':24} {'staple':15} {'revocation (source)':22} "
          f"{'configured by':13} must-staple")
    for row in report["endpoints"]:
        revocation = f"{row.get('revocation_status') or '-'} ({row.get('revocation_source') or 'none'})"
        print(f"  {row['server_kind']:7} {row['endpoint']:16} {row.get('server_name') or '':24} "
              f"{row['verdict']:15} {revocation:22} {row.get('configured_by') or '-':13} "
              f"{'yes' if row.get('must_staple') else ''}")
    summary = report["summary"]
    print(f"\n  {summary['hosts']} host(s), {summary['endpoints']} endpoints, "
          f"{summary['critical']} critical, {summary['warning']} warnings")
    print(f"\n  HTML report: {report_dir / 'ocsp-audit.html'}")
    print(f"  Markdown:    {report_dir / 'ocsp-audit.md'}")
    print(f"  JSON:        {report_dir / 'ocsp-audit.json'}")
    print(f"  Metrics:     {report_dir / 'ocsp-audit.prom'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=lab_state.DEFAULT_DIR, help="lab directory")
    parser.add_argument("--report-dir", type=Path, default=REPO_ROOT / "ocsp-audit", help="where the audit goes")
    arguments = parser.parse_args(argv)

    print(f"=== Building and starting the lab in {arguments.dir}", flush=True)
    try:
        lab = fresh_lab(arguments.dir.absolute())
    except LabError as error:
        print(f"demo: {error}", file=sys.stderr)
        return 1
    state = lab.state()
    inventory = write_inventory(state, lab.directory / "inventory.yml")
    env = ansible_env.environment(lab.directory / "ansible-home")

    enable_rc = playbook("enable", inventory, env)
    audit_rc = playbook("audit", inventory, env, "-e", f"tlsops_ocsp_report_dir={arguments.report_dir.absolute()}")
    if (arguments.report_dir / "ocsp-audit.json").exists():
        print_report(arguments.report_dir)
    print(f"\nThe lab keeps running; stop it with: {sys.executable} tests/lab/lab.py stop --dir {lab.directory}")
    return enable_rc or audit_rc


if __name__ == "__main__":
    sys.exit(main())
