"""Dates and numbers as people in the towns read them: Babel's formats in Europe/Berlin."""

from __future__ import annotations

from datetime import UTC, date, datetime

from soesmart.i18n import format_date, format_datetime, format_number, format_time, label
from soesmart.spreadsheet import format_decimal


def test_a_day_is_written_out_in_german_and_in_english() -> None:
    assert format_date("2027-01-26") == "26. Januar 2027"
    assert format_date(date(2027, 1, 26), "en") == "26 January 2027"
    assert format_date("2027-01-26", "de", "medium") == "26.01.2027"
    assert format_date("2026-12-01", "de", "day_month") == "01.12."


def test_a_moment_is_shown_in_the_towns_time_not_in_utc() -> None:
    # 13:05 UTC is 14:05 in Soest in winter, 23:30 UTC already the next day there
    assert format_datetime("2026-12-01T13:05:00+00:00") == "01.12.2026 14:05"
    assert format_datetime(datetime(2026, 12, 1, 13, 5, tzinfo=UTC), "en") == "1 Dec 2026, 14:05"
    assert format_datetime(datetime(2026, 7, 1, 13, 5)) == "01.07.2026 15:05"  # naive is UTC; summer time
    assert format_date("2026-12-01T23:30:00+00:00") == "2. Dezember 2026"
    assert format_time("2026-12-01T13:05:00Z") == "14:05"


def test_what_is_not_a_date_is_shown_as_it_is() -> None:
    assert format_date(None) == "" and format_date("") == "" and format_date("morgen") == "morgen"
    assert format_datetime("bald") == "bald"


def test_numbers_have_a_decimal_comma_in_german() -> None:
    assert format_number(12345.5) == "12.345,5"
    assert format_number(12345.5, "en") == "12,345.5"
    assert format_number(2.5, "de", places=1) == "2,5" and format_number(None) == ""
    # spreadsheets get no thousands separator and at most three decimals
    assert format_decimal(1234.5678) == "1234,568" and format_decimal(66.7) == "66,7"
    assert format_decimal(100.0) == "100" and format_decimal(None) == ""


def test_the_shared_vocabulary_has_german_labels() -> None:
    assert label("field_of_action", "cycling") == "Radverkehr"
    assert label("field_of_action", "cycling", "en") == "Cycling"
    assert label("status", "something_new") == "something_new"
    assert label("status", None) == "" and label("status", "") == ""
