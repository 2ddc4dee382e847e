# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module run the way Ansible runs it: a subprocess reading its arguments file."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import COLLECTIONS_PATH

pytest.importorskip("ansible", reason="the module runs on ansible-core")

MODULE = "ansible_collections.tlsops.ocsp.plugins.modules.config_include"
MARK = "include /etc/nginx/tlsops-ocsp/stapling-server.conf;"
SITE = b"server {\n    listen 80;\n}\n\nserver {\n\tlisten 443 ssl;\n}\n"


def run_module(tmp_path: Path, check: bool = False, diff: bool = False, **args: Any) -> dict[str, Any]:
    args.update(_ansible_check_mode=check, _ansible_diff=diff)
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    completed = subprocess.run(
        [sys.executable, "-m", MODULE, str(args_file)],
        env=dict(os.environ, PYTHONPATH=str(COLLECTIONS_PATH)),
        capture_output=True, text=True, check=False, timeout=60)
    return json.loads(completed.stdout)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    path = tmp_path / "site.conf"
    path.write_bytes(SITE)
    path.chmod(0o640)
    return path


def test_present_adds_after_each_opening_and_keeps_the_mode(tmp_path, site):
    result = run_module(tmp_path, path=str(site), line=MARK, after_lines=[1, 5])
    assert result["changed"] is True
    assert result["added"] == [2, 7]
    lines = site.read_text().splitlines()
    assert lines[1] == "    " + MARK
    assert lines[6] == "\t" + MARK
    assert stat.S_IMODE(site.stat().st_mode) == 0o640


def test_second_run_is_unchanged(tmp_path, site):
    run_module(tmp_path, path=str(site), line=MARK, after_lines=[5])
    again = run_module(tmp_path, path=str(site), line=MARK, after_lines=[5])
    assert again["changed"] is False


def test_check_mode_reports_and_diff_shows_but_nothing_is_written(tmp_path, site):
    result = run_module(tmp_path, check=True, diff=True, path=str(site), line=MARK, after_lines=[5])
    assert result["changed"] is True
    assert MARK in result["diff"]["after"]
    assert result["diff"]["before"] == SITE.decode()
    assert site.read_bytes() == SITE


def test_absent_restores_the_bytes_and_backup_keeps_the_original(tmp_path, site):
    run_module(tmp_path, path=str(site), line=MARK, after_lines=[1, 5])
    result = run_module(tmp_path, path=str(site), line=MARK, state="absent", backup=True)
    assert result["removed"] == [2, 7]
    assert site.read_bytes() == SITE
    assert MARK in Path(result["backup_file"]).read_text()


def test_bad_line_number_fails_naming_the_file(tmp_path, site):
    result = run_module(tmp_path, path=str(site), line=MARK, after_lines=[42])
    assert result["failed"] is True
    assert str(site) in result["msg"] and "line 42" in result["msg"]
    assert site.read_bytes() == SITE


def test_missing_file_fails_for_present_and_is_fine_for_absent(tmp_path):
    missing = str(tmp_path / "nope.conf")
    assert run_module(tmp_path, path=missing, line=MARK, after_lines=[1])["failed"] is True
    assert run_module(tmp_path, path=missing, line=MARK, state="absent")["changed"] is False


def test_non_utf8_bytes_survive(tmp_path):
    path = tmp_path / "latin1.conf"
    original = b"# caf\xe9\nserver {\n    listen 443;\n}\n"
    path.write_bytes(original)
    run_module(tmp_path, path=str(path), line=MARK, after_lines=[2])
    assert b"caf\xe9" in path.read_bytes()
    run_module(tmp_path, path=str(path), line=MARK, state="absent")
    assert path.read_bytes() == original


@pytest.fixture
def sites(tmp_path: Path) -> list[Path]:
    paths = []
    for name in ("a.conf", "b.conf", "c.conf"):
        path = tmp_path / name
        path.write_bytes(SITE)
        paths.append(path)
    return paths


def test_targets_edit_several_files_in_one_call_and_say_which_changed(tmp_path, sites):
    a, b, c = sites
    run_module(tmp_path, path=str(b), line=MARK, after_lines=[5])  # b is already right
    result = run_module(tmp_path, line=MARK, targets=[
        dict(path=str(a), after_lines=[1, 5]), dict(path=str(b), after_lines=[5])])
    assert result["changed"] is True
    assert result["files"] == [dict(path=str(a), changed=True, added=[2, 7], removed=[]),
                               dict(path=str(b), changed=False, added=[], removed=[])]
    assert "added" not in result  # the single-file keys belong to path
    assert a.read_text().count(MARK) == 2 and b.read_text().count(MARK) == 1
    assert c.read_bytes() == SITE
    again = run_module(tmp_path, line=MARK, targets=[
        dict(path=str(a), after_lines=[1, 6]), dict(path=str(b), after_lines=[5])])
    assert again["changed"] is False


def test_targets_check_mode_writes_nothing_and_diff_has_one_entry_per_changed_file(tmp_path, sites):
    a, b = sites[:2]
    run_module(tmp_path, path=str(b), line=MARK, after_lines=[5])
    b_before = b.read_text()
    result = run_module(tmp_path, check=True, diff=True, line=MARK, targets=[
        dict(path=str(a), after_lines=[5]), dict(path=str(b), after_lines=[5])])
    assert result["changed"] is True
    assert [entry["changed"] for entry in result["files"]] == [True, False]
    assert result["diff"] == [dict(before=SITE.decode(), after=SITE.decode().replace(
        "\tlisten 443", "\t" + MARK + "\n\tlisten 443"), before_header=str(a), after_header=str(a))]
    assert a.read_bytes() == SITE and b.read_text() == b_before


def test_targets_bad_line_in_one_file_fails_naming_it_and_writes_no_file(tmp_path, sites):
    a, b = sites[:2]
    result = run_module(tmp_path, line=MARK, targets=[
        dict(path=str(a), after_lines=[1]), dict(path=str(b), after_lines=[42])])
    assert result["failed"] is True
    assert result["msg"].startswith(f"{b}: line 42 does not exist")
    assert a.read_bytes() == SITE and b.read_bytes() == SITE


def test_targets_missing_file_fails_naming_it_and_writes_no_file(tmp_path, sites):
    a = sites[0]
    missing = tmp_path / "gone.conf"
    result = run_module(tmp_path, line=MARK, targets=[
        dict(path=str(a), after_lines=[1]), dict(path=str(missing), after_lines=[1])])
    assert result["failed"] is True
    assert result["msg"].startswith(f"{missing}: no such file")
    assert a.read_bytes() == SITE


def test_paths_take_the_line_out_of_several_files_and_skip_missing_ones(tmp_path, sites):
    a, b, c = sites
    for path in (a, c):
        run_module(tmp_path, path=str(path), line=MARK, after_lines=[1, 5])
    missing = tmp_path / "gone.conf"
    result = run_module(tmp_path, diff=True, line=MARK, state="absent", backup=True,
                        paths=[str(a), str(b), str(missing), str(c)])
    assert result["changed"] is True
    changed = [entry["path"] for entry in result["files"] if entry["changed"]]
    assert changed == [str(a), str(c)]
    assert result["files"][0]["removed"] == [2, 7]
    assert [diff["before_header"] for diff in result["diff"]] == changed
    assert a.read_bytes() == SITE and b.read_bytes() == SITE and c.read_bytes() == SITE
    assert all(MARK in Path(entry["backup_file"]).read_text() for entry in result["files"] if entry["changed"])


@pytest.mark.parametrize("args, message", [
    (dict(paths=["/x.conf"]), "paths is only for state=absent"),
    (dict(path="/x.conf", paths=["/y.conf"], state="absent"), "mutually exclusive"),
    (dict(targets=[dict(path="/x.conf", after_lines=[1])], after_lines=[1]), "mutually exclusive"),
    (dict(state="absent"), "one of the following is required"),
    (dict(paths=["/x.conf", "/x.conf"], state="absent"), "/x.conf: given twice"),
])
def test_bad_combinations_fail_with_a_clear_message(tmp_path, args, message):
    result = run_module(tmp_path, line=MARK, **args)
    assert result["failed"] is True
    assert message in result["msg"]
