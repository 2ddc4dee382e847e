# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The config_lock module: the token round trip and the timeout message."""
from __future__ import annotations

from ansible_collections.tlsops.ocsp.plugins.modules import config_lock


def test_lock_then_unlock(run_module, tmp_path):
    taken = run_module(config_lock.main, name="nginx-/etc/nginx/nginx.conf", directory=str(tmp_path), holder="A")
    assert taken["changed"] is False and taken["path"].endswith("nginx-_etc_nginx_nginx.conf.lock")
    busy = run_module(config_lock.main, name="nginx-/etc/nginx/nginx.conf", directory=str(tmp_path), wait=0)
    assert busy["failed"] and "another run (A) holds the lock" in busy["msg"]
    released = run_module(config_lock.main, name="nginx-/etc/nginx/nginx.conf", directory=str(tmp_path),
                          state="unlocked", token=taken["token"])
    assert released["released"] is True


def test_negative_wait_is_refused_in_the_module_terms(run_module, tmp_path):
    result = run_module(config_lock.main, name="x", directory=str(tmp_path), wait=-1)
    assert result["failed"] and result["msg"].startswith("wait must be 0 or more")
