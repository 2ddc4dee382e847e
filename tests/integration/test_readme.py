# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""README's "Use it on your hosts", as a new user runs it: the collection from a built tarball through the
README's requirements.yml, then the README's own commands, word for word, against the lab (its inventory in
place of the README's example hosts), with nothing of this checkout on the collection path."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest
import yaml

from tests.integration.lab_fixtures import lab_factory  # noqa: F401 pylint: disable=unused-import
from tests.lab import demo

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
MARKER = "<!-- user-commands:"


def user_commands(text: str) -> list[str]:
    """The shell block right after the README's user-commands marker."""
    block = re.search(re.escape(MARKER) + r".*?-->\s*```sh\n(.*?)```", text, re.S)
    assert block, f"README.md has no ```sh block after {MARKER}"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


def yaml_block(text: str, first_line: str) -> str:
    """The ```yaml block of the README that starts with `first_line` (a comment naming the file)."""
    block = re.search(r"```yaml\n(" + re.escape(first_line) + r"\n.*?)```", text, re.S)
    assert block, f"README.md has no ```yaml block starting with {first_line!r}"
    return block.group(1)


def server_files(state: Dict) -> Dict[str, str]:
    """A digest of every configuration file the lab's nginx, Apache and HAProxy read, and their certificates."""
    roots = [state["nginx"]["config_file"], state["nginx"]["dropin_dir"], state["nginx"]["sites_dir"],
             state["apache"]["confdir"], state["haproxy"]["config_file"], state["haproxy"]["certs_dir"],
             state["haproxy"]["crt_list"]]
    files = [path for root in map(Path, roots) for path in ([root] if root.is_file() else sorted(root.rglob("*")))
             if path.is_file() and not {"run", "lock", "logs"} & set(path.relative_to(root.parent).parts)]
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in files}


def user_environment(home: Path) -> Dict[str, str]:
    """A user's shell: the venv's ansible on PATH, a home of its own, no ANSIBLE_* of the test harness."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(HOME=str(home), ANSIBLE_NOCOLOR="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    return env


@pytest.fixture(scope="module")
def lab(lab_factory):  # noqa: F811
    return lab_factory(revoke_initially=False)


def test_the_readmes_user_commands_work_from_a_built_tarball(lab, tmp_path):
    text = README.read_text()
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    env = user_environment(home)

    def run(command: str) -> subprocess.CompletedProcess:
        done = subprocess.run(shlex.split(command), cwd=work, env=env, capture_output=True, text=True,
                              timeout=900, check=False)
        assert done.returncode == 0, f"{command}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}"
        return done

    # the tarball the README's requirements.yml names, built as a release is
    run(f"ansible-galaxy collection build {REPO} --output-path {work}")
    requirements = yaml_block(text, "# requirements.yml")
    named = yaml.safe_load(requirements)["collections"][0]["name"]
    assert (work / named).is_file(), f"README.md installs {named}; the build made {sorted(os.listdir(work))}"
    (work / "requirements.yml").write_text(requirements)
    assert yaml.safe_load(yaml_block(text, "# inventory.yml"))["all"]["hosts"]  # the README's example parses
    demo.write_inventory(lab.state(), work / "inventory.yml")

    commands = user_commands(text)
    assert [command.split()[:2] for command in commands] == [
        ["ansible-galaxy", "collection"], ["ansible-playbook", "-i"], ["ansible-playbook", "-i"],
        ["ansible-playbook", "-i"]]
    install, check, enable, audit = commands
    run(install)
    listed = run("ansible-galaxy collection list tlsops.ocsp --format json").stdout
    assert str(home) in json.dumps(json.loads(listed)), listed  # installed for this user, not the checkout

    before = server_files(lab.state())
    run(check)
    assert server_files(lab.state()) == before  # --check changes no file of the servers
    run(enable)
    run(audit)
    report = json.loads((work / "ocsp-audit" / "ocsp-audit.json").read_text())
    assert report["summary"]["critical"] == 0 and report["summary"]["by_verdict"]["good"] > 0
