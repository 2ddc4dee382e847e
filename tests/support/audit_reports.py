# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What two audits of the same hosts must agree on, whichever way they ran (sliced or not, in an EE or a venv)."""
from __future__ import annotations

from typing import Any


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """The endpoints, their verdicts, the findings, the coverage and the summary of an ocsp-audit.json;
    not when it ran, nor in which order the hosts answered."""
    return {"rows": sorted((row["inventory_host"], row["server_kind"], row["endpoint"], str(row["server_name"]),
                            row["verdict"], str(row["revocation_status"]), row["severity"])
                           for row in report["endpoints"]),
            "findings": sorted((item["inventory_host"], item["endpoint"], item["code"]) for item in report["fix_first"]),
            "coverage": {key: report["coverage"][key] for key in ("audited", "not_audited", "unreadable_servers")},
            "summary": dict(report["summary"])}
