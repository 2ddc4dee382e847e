# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report of every server role: the rules live in module_utils/_report/stapling_report.py."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from ansible.errors import AnsibleFilterError
from ansible_collections.tlsops.ocsp.plugins.module_utils._report import stapling_report as report


def stapling_report(endpoints: List[Dict[str, Any]], staples: List[Dict[str, Any]], changed: bool,
                    server_kind: str, responders: Optional[List[Dict[str, Any]]] = None,
                    crls: Optional[List[Dict[str, Any]]] = None,
                    diagnoses: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
    """Fact entries, summary lines and failures from the planned endpoints and staple_info's results."""
    try:
        return report.stapling_report(endpoints, staples, changed, server_kind, responders, crls, diagnoses)
    except ValueError as error:
        raise AnsibleFilterError(str(error)) from error


def stapling_host_summary(endpoints: List[Dict[str, Any]], host: str, servers: List[str]) -> Dict[str, Any]:
    """The stapling role's summary of one host from its tagged endpoint entries."""
    return report.host_summary(host, servers, endpoints)


def stapling_summary_line(summary: Dict[str, Any]) -> str:
    """The one line the stapling role prints per host."""
    return report.host_summary_line(summary)


class FilterModule:
    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"stapling_report": stapling_report, "stapling_host_summary": stapling_host_summary,
                "stapling_summary_line": stapling_summary_line}
