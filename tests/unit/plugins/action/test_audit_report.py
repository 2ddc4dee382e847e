# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""audit_report's action plugin: relative report directories are where ansible-playbook runs."""
from __future__ import annotations

from ansible_collections.tlsops.ocsp.plugins.action.audit_report import resolved


def test_relative_directories_join_the_controllers_working_directory():
    assert resolved({"dest": "ocsp-audit", "metrics_dest": "metrics/textfile", "formats": ["json"]}, "/home/op") == {
        "dest": "/home/op/ocsp-audit", "metrics_dest": "/home/op/metrics/textfile", "formats": ["json"]}


def test_absolute_home_and_missing_directories_are_left_alone():
    assert resolved({"dest": "/srv/reports", "metrics_dest": "~/textfile"}, "/home/op") == {
        "dest": "/srv/reports", "metrics_dest": "~/textfile"}
    assert resolved({"dest": "r"}, "/x") == {"dest": "/x/r"}
