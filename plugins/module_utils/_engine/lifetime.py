# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificate lifetimes against the CA/Browser Forum maximum (ballot SC-081).

The Baseline Requirements count a certificate's validity from notBefore to
notAfter inclusive (one second more than the difference), and any part of a
day counts as a whole day. The maximum depends on the issue date:

    issued before 2026-03-15            398 days (since 2020-09-01, ballot SC-31)
    from 2026-03-15                     200 days
    from 2027-03-15                     100 days
    from 2029-03-15                      47 days

`judge` says whether a certificate was allowed when it was issued and whether
the same lifetime is still allowed at the next step: operators learn which
certificates cannot be renewed as they are.
"""
from __future__ import annotations

import datetime
import functools
import math
from typing import Any, Dict, Optional, Tuple

SECONDS_PER_DAY = 86400
_UTC = datetime.timezone.utc

# (in force from, maximum days), oldest first; the first also judges anything issued before it.
STEPS: Tuple[Tuple[datetime.datetime, int], ...] = (
    (datetime.datetime(2020, 9, 1, tzinfo=_UTC), 398),
    (datetime.datetime(2026, 3, 15, tzinfo=_UTC), 200),
    (datetime.datetime(2027, 3, 15, tzinfo=_UTC), 100),
    (datetime.datetime(2029, 3, 15, tzinfo=_UTC), 47),
)

OK = "ok"
TOO_LONG = "too_long"        # longer than the maximum in force at its issue date
NOT_RENEWABLE = "not_renewable"  # allowed when issued, not at the next step


def parse_time(value: Optional[str]) -> Optional[datetime.datetime]:
    """An ISO 8601 UTC time as the engine writes it (2026-11-24T04:03:19Z); None when empty or unreadable."""
    if not value:
        return None
    return _parsed(str(value))


@functools.lru_cache(maxsize=4096)
def _parsed(value: str) -> Optional[datetime.datetime]:
    # a fleet report reads the same few times at every one of its endpoints, several times each (strptime is slow)
    try:
        return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_UTC)
    except ValueError:
        return None


def validity_days(not_before: datetime.datetime, not_after: datetime.datetime) -> int:
    """The validity in days as the Baseline Requirements count it: inclusive, part days rounded up."""
    seconds = (not_after - not_before).total_seconds() + 1
    return int(math.ceil(seconds / SECONDS_PER_DAY))


def step_index(issued: datetime.datetime) -> int:
    """The index in STEPS of the maximum in force for a certificate issued at `issued`."""
    index = 0
    for i, (start, _days) in enumerate(STEPS):
        if issued >= start:
            index = i
    return index


def _span(entry: Dict[str, Any]) -> Optional[Tuple[datetime.datetime, int]]:
    """(issue date, validity days) from not_before and not_after, else not_after - lifetime_days."""
    not_after = parse_time(entry.get("not_after"))
    not_before = parse_time(entry.get("not_before"))
    if not_after and not_before:
        return not_before, validity_days(not_before, not_after)
    days = entry.get("lifetime_days")
    if not_after and isinstance(days, int) and not isinstance(days, bool) and days > 0:
        return not_after - datetime.timedelta(days=days), days
    return None


def judge(entry: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The lifetime judgment of an endpoint entry's certificate, or None when its dates are unknown.

    Keys: verdict (OK, TOO_LONG or NOT_RENEWABLE), issued (date), days, maximum_days (in force when
    issued), next_step (date or None), next_maximum_days, not_allowed_from (date or None) and reason.
    """
    span = _span(entry)
    if span is None:
        return None
    issued, days = span
    index = step_index(issued)
    maximum = STEPS[index][1]
    next_step, next_maximum = STEPS[index + 1] if index + 1 < len(STEPS) else (None, None)
    result: Dict[str, Any] = {
        "issued": issued.strftime("%Y-%m-%d"), "days": days, "maximum_days": maximum,
        "next_step": next_step.strftime("%Y-%m-%d") if next_step else None,
        "next_maximum_days": next_maximum, "not_allowed_from": None,
    }
    if days > maximum:
        since = next(start for start, most in STEPS if most < days)
        result.update(verdict=TOO_LONG, not_allowed_from=since.strftime("%Y-%m-%d"), reason=(
            "lifetime of %d days exceeds the %d-day maximum for certificates issued on %s (CA/B Forum SC-081; "
            "not allowed since %s): clients that enforce it may refuse the certificate"
            % (days, maximum, result["issued"], since.strftime("%Y-%m-%d"))))
    elif next_step is not None and days > next_maximum:
        result.update(verdict=NOT_RENEWABLE, not_allowed_from=next_step.strftime("%Y-%m-%d"), reason=(
            "lifetime of %d days is no longer allowed for certificates issued from %s (maximum %d days, "
            "CA/B Forum SC-081): it cannot be renewed as it is" % (days, next_step.strftime("%Y-%m-%d"),
                                                                   next_maximum)))
    else:
        result.update(verdict=OK, reason="lifetime of %d days is within the %d-day maximum" % (days, maximum))
    return result
