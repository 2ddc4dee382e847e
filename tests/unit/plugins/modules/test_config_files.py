# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""config_files, run in-process: the files a role owns written and removed in one call."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

pytest.importorskip("ansible.module_utils.basic", reason="the modules run on ansible-core")

from ansible_collections.tlsops.ocsp.plugins.modules import config_files  # noqa: E402

main = config_files.main
SNIPPET = "# Managed by tlsops.ocsp.nginx_stapling\nssl_stapling on;\n"


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def paths(tmp_path: Path) -> dict:
    """A snippet to write, an old drop-in to remove, and one that is already gone."""
    old = tmp_path / "dropin.conf"
    old.write_text("ssl_stapling on;\n")
    return dict(snippet=tmp_path / "snippet.conf", old=old, gone=tmp_path / "gone.conf")


def call(run_module, paths: dict, **extra):
    return run_module(main, files=[dict(path=str(paths["snippet"]), content=SNIPPET)], mode="0640",
                      absent=[str(paths["old"]), str(paths["gone"])], **extra)


def test_writes_and_removes_in_one_call_then_changes_nothing(run_module, paths, tmp_path):
    result = call(run_module, paths)
    assert result["changed"] is True
    assert result["files"] == [dict(path=str(paths["snippet"]), state="file", changed=True),
                               dict(path=str(paths["old"]), state="absent", changed=True),
                               dict(path=str(paths["gone"]), state="absent", changed=False)]
    assert paths["snippet"].read_text() == SNIPPET and mode_of(paths["snippet"]) == 0o640
    assert not paths["old"].exists()
    assert sorted(os.listdir(tmp_path)) == ["snippet.conf"]  # no temporary file left
    assert call(run_module, paths)["changed"] is False


def test_check_mode_reports_every_change_with_its_diff_and_changes_nothing(run_module, paths):
    result = call(run_module, paths, check_mode=True, _ansible_diff=True)
    assert [entry["changed"] for entry in result["files"]] == [True, True, False]
    assert result["diff"] == [
        dict(before="", after=SNIPPET, before_header=str(paths["snippet"]), after_header=str(paths["snippet"])),
        dict(before="ssl_stapling on;\n", after="", before_header=str(paths["old"]), after_header=str(paths["old"]))]
    assert not paths["snippet"].exists() and paths["old"].exists()


def test_a_wrong_mode_alone_is_a_change(run_module, paths):
    paths["snippet"].write_text(SNIPPET)
    paths["snippet"].chmod(0o600)
    paths["old"].unlink()
    result = call(run_module, paths, _ansible_diff=True)
    assert result["changed"] is True and mode_of(paths["snippet"]) == 0o640
    assert result["diff"] == [dict(before=SNIPPET, after=SNIPPET, before_header=str(paths["snippet"]),
                                   after_header=str(paths["snippet"]))]


def test_files_go_only_into_existing_directories_and_nothing_changes_before(run_module, paths, tmp_path):
    elsewhere = tmp_path / "missing" / "x.conf"
    result = run_module(main, files=[dict(path=str(paths["snippet"]), content=SNIPPET),
                                     dict(path=str(elsewhere), content=SNIPPET)], mode="0644",
                        absent=[str(paths["old"])])
    assert result["failed"] is True
    assert result["msg"] == f"{elsewhere}: the directory {elsewhere.parent} does not exist; create it first"
    assert not paths["snippet"].exists() and paths["old"].exists()
    # in check mode the directory may be one an earlier task would have made
    assert run_module(main, check_mode=True, files=[dict(path=str(elsewhere), content=SNIPPET)],
                      mode="0644")["changed"] is True


def test_a_directory_is_never_removed(run_module, tmp_path):
    result = run_module(main, absent=[str(tmp_path)])
    assert result["failed"] is True
    assert result["msg"] == f"{tmp_path}: is a directory; config_files writes and removes only files"
    assert tmp_path.is_dir()


def test_a_symbolic_link_is_removed_not_what_it_points_at(run_module, paths, tmp_path):
    link = tmp_path / "enabled.conf"
    link.symlink_to(paths["old"])
    assert run_module(main, absent=[str(link)])["changed"] is True
    assert not os.path.lexists(link) and paths["old"].exists()


@pytest.mark.parametrize("args, message", [
    (dict(files=[dict(path="/tmp/x.conf", content="x")]), "mode is required with files"),
    (dict(files=[dict(path="/tmp/x.conf", content="x")], mode="0644", absent=["/tmp/x.conf"]),
     "/tmp/x.conf: given twice"),
])
def test_bad_arguments_fail_clearly(run_module, args, message):
    result = run_module(main, **args)
    assert result["failed"] is True and message in result["msg"]
