# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificate lifetimes against CA/B Forum SC-081, at the boundaries of each step."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import lifetime

UTC = datetime.timezone.utc
SECOND = datetime.timedelta(seconds=1)


def iso(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def certificate(issued: datetime.datetime, days: int) -> dict:
    """A certificate of exactly `days` days as the Baseline Requirements count them (notAfter inclusive)."""
    return {"not_before": iso(issued), "not_after": iso(issued + datetime.timedelta(days=days) - SECOND)}


def at(year: int, month: int, day: int, *hms: int) -> datetime.datetime:
    return datetime.datetime(year, month, day, *hms, tzinfo=UTC)


def test_validity_counts_notafter_inclusive_and_part_days_as_days():
    start = at(2026, 6, 1)
    assert lifetime.validity_days(start, start + datetime.timedelta(days=90) - SECOND) == 90
    assert lifetime.validity_days(start, start + datetime.timedelta(days=90)) == 91  # one second too many


@pytest.mark.parametrize("issued, days, verdict, not_allowed_from", [
    # before 2026-03-15: 398 days, next step 200
    (at(2026, 3, 14, 23, 59, 59), 398, lifetime.NOT_RENEWABLE, "2026-03-15"),
    (at(2026, 3, 14, 23, 59, 59), 399, lifetime.TOO_LONG, "2020-09-01"),
    (at(2025, 6, 1), 200, lifetime.OK, None),
    (at(2025, 6, 1), 201, lifetime.NOT_RENEWABLE, "2026-03-15"),
    # from 2026-03-15: 200 days, next step 100
    (at(2026, 3, 15), 200, lifetime.NOT_RENEWABLE, "2027-03-15"),
    (at(2026, 3, 15), 201, lifetime.TOO_LONG, "2026-03-15"),
    (at(2026, 3, 15), 398, lifetime.TOO_LONG, "2026-03-15"),
    (at(2026, 3, 15), 100, lifetime.OK, None),
    (at(2026, 12, 1), 90, lifetime.OK, None),
    # from 2027-03-15: 100 days, next step 47
    (at(2027, 3, 14, 23, 59, 59), 101, lifetime.NOT_RENEWABLE, "2027-03-15"),
    (at(2027, 3, 15), 101, lifetime.TOO_LONG, "2027-03-15"),
    (at(2027, 3, 15), 100, lifetime.NOT_RENEWABLE, "2029-03-15"),
    (at(2027, 3, 15), 47, lifetime.OK, None),
    # from 2029-03-15: 47 days, no next step
    (at(2029, 3, 15), 47, lifetime.OK, None),
    (at(2029, 3, 15), 48, lifetime.TOO_LONG, "2029-03-15"),
    (at(2029, 3, 14, 23, 59, 59), 48, lifetime.NOT_RENEWABLE, "2029-03-15"),
])
def test_judge_at_the_steps(issued, days, verdict, not_allowed_from):
    judgment = lifetime.judge(certificate(issued, days))
    assert (judgment["verdict"], judgment["not_allowed_from"], judgment["days"]) == (verdict, not_allowed_from, days)
    if not_allowed_from:
        assert not_allowed_from in judgment["reason"] and "%d days" % days in judgment["reason"]


def test_judgment_names_the_maximum_and_the_next_step():
    judgment = lifetime.judge(certificate(at(2026, 4, 1), 90))
    assert judgment["maximum_days"] == 200
    assert (judgment["next_step"], judgment["next_maximum_days"]) == ("2027-03-15", 100)
    last = lifetime.judge(certificate(at(2030, 1, 1), 30))
    assert (last["maximum_days"], last["next_step"], last["next_maximum_days"]) == (47, None, None)


def test_without_not_before_the_issue_date_is_not_after_minus_lifetime():
    # staple_info's entry has not_after and lifetime_days only: issued 2026-03-15, 200 days
    entry = {"not_after": iso(at(2026, 10, 1)), "lifetime_days": 200}
    judgment = lifetime.judge(entry)
    assert (judgment["issued"], judgment["verdict"], judgment["not_allowed_from"]) == (
        "2026-03-15", lifetime.NOT_RENEWABLE, "2027-03-15")


@pytest.mark.parametrize("entry", [
    {}, {"not_after": None, "lifetime_days": 90}, {"not_after": "2027-01-01T00:00:00Z"},
    {"not_after": "not a time", "not_before": "2026-01-01T00:00:00Z"},
    {"not_after": "2027-01-01T00:00:00Z", "lifetime_days": True},
    {"not_after": "2027-01-01T00:00:00Z", "lifetime_days": "90"},
])
def test_unknown_dates_give_no_judgment(entry):
    assert lifetime.judge(entry) is None
