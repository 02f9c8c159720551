"""The deadlines of a privacy request (11 CCR 7021): receipt confirmed within 10 business days,
the response due by the end of the 45th calendar day after receipt, one extension of 1 to 45
days, and the days left that staff see, all counted in California's days. Pure arithmetic: no
database, no clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from consent_api.requests import deadlines

UTC = dt.UTC
PACIFIC = ZoneInfo("America/Los_Angeles")


def at(day: str, time: str = "10:00", zone: dt.tzinfo = PACIFIC) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=zone)


def end_of(day: str) -> dt.datetime:
    return at(day, "23:59:59.999999")


@pytest.mark.parametrize(
    ("received", "confirm_by"),
    [
        pytest.param(at("2026-03-02"), "2026-03-16", id="monday: two weeks on"),
        pytest.param(at("2026-03-04"), "2026-03-18", id="wednesday"),
        pytest.param(at("2026-03-06"), "2026-03-20", id="friday: the weekend is skipped"),
        pytest.param(at("2026-03-07"), "2026-03-20", id="saturday: counted from monday"),
        pytest.param(at("2026-03-08", "23:59"), "2026-03-20", id="sunday night"),
        pytest.param(at("2026-04-29"), "2026-05-13", id="across a month's end"),
        pytest.param(at("2026-12-21"), "2027-01-04", id="across the year's end"),
        pytest.param(at("2027-01-01"), "2027-01-15", id="new year's day, a friday"),
        pytest.param(
            at("2026-03-05", "20:00"),
            "2026-03-19",
            id="thursday 20:00 in California is thursday, though friday in UTC",
        ),
        pytest.param(
            at("2026-03-06", "07:00", UTC),
            "2026-03-19",
            id="friday 07:00 UTC is still thursday in California",
        ),
    ],
)
def test_receipt_is_confirmed_within_ten_business_days(
    received: dt.datetime, confirm_by: str
) -> None:
    assert deadlines.confirm_by(received).isoformat() == confirm_by
    assert dt.date.fromisoformat(confirm_by).weekday() < 5


@pytest.mark.parametrize(
    ("received", "due"),
    [
        pytest.param(at("2026-03-02"), end_of("2026-04-16"), id="calendar days, weekends counted"),
        pytest.param(at("2026-03-07", "23:30"), end_of("2026-04-21"), id="from a saturday"),
        pytest.param(at("2026-03-07", "00:05"), end_of("2026-04-21"), id="early the same day"),
        pytest.param(
            at("2026-03-06", "07:00", UTC), end_of("2026-04-19"), id="a california thursday"
        ),
        pytest.param(at("2026-12-01"), end_of("2027-01-15"), id="across the year's end"),
        pytest.param(at("2028-01-20"), end_of("2028-03-05"), id="through a leap day"),
    ],
)
def test_the_response_is_due_45_calendar_days_after_receipt(
    received: dt.datetime, due: dt.datetime
) -> None:
    assert deadlines.response_due(received) == due


@pytest.mark.parametrize(
    ("days", "due"),
    [
        pytest.param(1, end_of("2026-04-17"), id="one day"),
        pytest.param(30, end_of("2026-05-16"), id="thirty days"),
        pytest.param(45, end_of("2026-05-31"), id="the most: 90 days from receipt"),
    ],
)
def test_an_extension_moves_the_due_date_by_its_days(days: int, due: dt.datetime) -> None:
    assert deadlines.extended(end_of("2026-04-16"), days) == due


@pytest.mark.parametrize("days", [0, -1, 46, 90])
def test_an_extension_outside_1_to_45_days_is_refused(days: int) -> None:
    with pytest.raises(ValueError, match="1 to 45 days"):
        deadlines.extended(at("2026-04-16"), days)


DUE = end_of("2026-04-16")


@pytest.mark.parametrize(
    ("now", "left"),
    [
        pytest.param(at("2026-03-02"), 45, id="the day it came"),
        pytest.param(at("2026-04-15", "23:59"), 1, id="the evening before"),
        pytest.param(at("2026-04-16", "00:00"), 0, id="the due day's first minute"),
        pytest.param(at("2026-04-16", "23:59"), 0, id="the due day's last minute"),
        pytest.param(at("2026-04-17", "00:00"), -1, id="the day after"),
        pytest.param(at("2026-04-26"), -10, id="ten days late"),
        pytest.param(at("2026-04-17", "05:00", UTC), 0, id="the 17th in UTC, the 16th here"),
    ],
)
def test_days_left_is_0_on_the_due_day_and_negative_after(now: dt.datetime, left: int) -> None:
    assert deadlines.days_left(DUE, now) == left


def test_a_due_date_is_written_as_people_write_dates() -> None:
    assert deadlines.day(at("2026-04-16")) == "16 April 2026"
    assert deadlines.day(at("2026-04-17", "05:00", UTC)) == "16 April 2026"
