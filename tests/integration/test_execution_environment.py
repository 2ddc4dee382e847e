# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection inside its execution environment, run as AWX runs it, over SSH against the test fleet.

The EE (tests/ee) is built from this checkout with ansible-builder, on a
Debian 12 base made here, with the requirements of the collection's
meta/execution-environment.yml; a checkout whose EE is built already reuses
it. ansible-navigator runs `tlsops.ocsp.enable` and `tlsops.ocsp.audit` in it
(ansible-runner, podman) against the mixed fleet of test_fleet (Debian 12
and 13, nginx, Apache, HAProxy 3 under systemd); nothing of this machine's
Ansible is visible inside. The audit it writes equals the one the venv's
ansible-playbook writes of the same fleet. Sliced as AWX's job slicing
slices it (three slices at once, each with its share of the inventory) and
merged, it equals the unsliced audit, and the slice whose host could not be
reached counts it so.
"""
from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ee import build as ee_build, navigator
from tests.integration.lab_fixtures import lab_factory  # noqa: F401 pylint: disable=unused-import
# the fleet of test_fleet: h001 and h002 on Debian 12, h003 on Debian 13; nginx everywhere, Apache on h002 and h003,
# HAProxy 3 on h003
from tests.integration.test_fleet import EXPECTED_VERDICTS, HOSTS, ssh_fleet  # noqa: F401 pylint: disable=unused-import
from tests.support.audit_reports import comparable

CHECKOUT = Path(__file__).resolve().parents[2]
UNREACHABLE_HOST = "h003"


def pins(requirements: Path) -> dict[str, str]:
    """name -> the `name==version` line of a requirements file."""
    lines = (line.split("#")[0].strip() for line in requirements.read_text().splitlines())
    return {line.split("==")[0].lower(): line for line in lines if "==" in line}


def report(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "ocsp-audit.json").read_text())


@pytest.fixture(scope="module")
def ee_image() -> str:
    """This checkout's EE: built (about 2.5 minutes on a fresh machine) or reused."""
    return ee_build.ensure()


def test_the_definition_installs_what_the_controller_pins():
    definition = yaml.safe_load((CHECKOUT / "tests" / "ee" / "execution-environment.yml").read_text())["dependencies"]
    controller = pins(CHECKOUT / "requirements.txt")
    assert definition["ansible_core"]["package_pip"] == controller["ansible-core"]
    assert definition["python"] == [controller["ansible"]]
    assert definition["ansible_runner"]["package_pip"] == pins(ee_build.TOOLS_REQUIREMENTS)["ansible-runner"]


def test_the_collection_and_its_dependencies_resolve_inside_the_ee(ee_image):
    listed = ee_build.podman("run", "--rm", ee_image, "ansible-galaxy", "collection", "list", "--format", "json")
    where = {name: path for path, collections in json.loads(listed).items() for name in collections}
    assert where["tlsops.ocsp"] == "/usr/share/ansible/collections/ansible_collections"
    assert {"ansible.windows", "community.crypto"} <= set(where)
    versions = ee_build.podman("run", "--rm", ee_image, "python3", "-c",
                               "import cryptography, OpenSSL; print(cryptography.__version__, OpenSSL.__version__)")
    controller = pins(CHECKOUT / "requirements.txt")
    assert versions.split() == [controller["cryptography"].split("==")[1], controller["pyopenssl"].split("==")[1]]


def test_enable_and_audit_through_the_ee_equal_the_venvs(ssh_fleet, ee_image, run_playbook, tmp_path):  # noqa: F811
    inventory = ssh_fleet.inventory
    enable = navigator.run("tlsops.ocsp.enable", inventory, ee_image, {}, tmp_path)
    assert enable.returncode == 0, enable.output[-4000:]
    recap = enable.recap()
    assert set(recap) == set(HOSTS), enable.output[-4000:]
    assert all(counts["failed"] == counts["unreachable"] == 0 < counts["changed"] for counts in recap.values()), recap

    in_ee, in_venv = inventory.parent / "report-ee", inventory.parent / "report-venv"
    audit = navigator.run("tlsops.ocsp.audit", inventory, ee_image, {"tlsops_ocsp_report_dir": str(in_ee)}, tmp_path)
    assert audit.returncode == 0, audit.output[-4000:]
    venv = run_playbook("tlsops.ocsp.audit", {"tlsops_ocsp_report_dir": str(in_venv)}, inventory=str(inventory))
    assert venv.returncode == 0, venv.failure_messages()

    assert comparable(report(in_ee)) == comparable(report(in_venv))
    assert Counter(row["verdict"] for row in report(in_ee)["endpoints"]) == EXPECTED_VERDICTS
    assert (in_ee / "ocsp-audit.prom").read_text().count("\n") == (in_venv / "ocsp-audit.prom").read_text().count("\n")


def test_a_sliced_audit_through_the_ee_merged_equals_the_unsliced_one(ssh_fleet, ee_image, tmp_path):  # noqa: F811
    """h003's sshd is stopped first: its slice fails, and the unsliced and the merged report both count it."""
    inventory = json.loads(ssh_fleet.inventory.read_text())

    def share(names: tuple[str, ...]) -> Path:  # a slice's inventory, as AWX's job slicing hands it out
        path = ssh_fleet.inventory.parent / f"slice-{'-'.join(names)}.json"
        hosts = {name: inventory["all"]["hosts"][name] for name in names}
        path.write_text(json.dumps({"all": {"hosts": hosts, "vars": inventory["all"]["vars"]}}))
        return path

    def audit(where: Path, hosts: Path, **extra: Any) -> navigator.NavigatorRun:
        return navigator.run("tlsops.ocsp.audit", hosts, ee_image, {"tlsops_ocsp_report_dir": str(where), **extra},
                             tmp_path)

    down = ssh_fleet.host(UNREACHABLE_HOST)
    down.systemctl("stop", "ssh.socket", "ssh.service")
    try:
        unsliced_dir, sliced_dir = ssh_fleet.inventory.parent / "unsliced", ssh_fleet.inventory.parent / "sliced"
        unsliced = audit(unsliced_dir, ssh_fleet.inventory)
        with ThreadPoolExecutor(len(HOSTS)) as pool:
            slices = dict(zip(HOSTS, pool.map(lambda name: audit(sliced_dir, share((name,)), tlsops_ocsp_part="auto"),
                                              HOSTS)))
        parts = sorted(sliced_dir.glob("ocsp-audit.part-*.json"))
        merged = audit(sliced_dir, ssh_fleet.inventory, tlsops_ocsp_merge_parts=True)
    finally:
        down.systemctl("start", "ssh.service")

    said = f"{UNREACHABLE_HOST} could not be audited (unreachable)"
    assert unsliced.returncode != 0 and said in unsliced.output
    assert {name: run.returncode != 0 and said in run.output for name, run in slices.items()} == {
        name: name == UNREACHABLE_HOST for name in HOSTS}
    assert len(parts) == len(HOSTS), [run.output[-2000:] for run in slices.values()]
    assert merged.returncode != 0 and said in merged.output

    assert comparable(report(sliced_dir)) == comparable(report(unsliced_dir))
    assert [(item["host"], item["state"]) for item in report(sliced_dir)["coverage"]["not_audited"]] == [
        (UNREACHABLE_HOST, "unreachable")]
    assert 'tlsops_ocsp_hosts{state="unreachable"} 1' in (sliced_dir / "ocsp-audit.prom").read_text()
    assert not list(sliced_dir.glob("ocsp-audit.part-*.json"))
