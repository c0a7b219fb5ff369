"""Durations and deadlines in words, and durations taken as a number and a unit (engine.isotime)."""

from datetime import UTC, datetime, timedelta

import pytest

from engine.isotime import due_words, duration_words, join_duration, parse_duration, span_words, split_duration


@pytest.mark.parametrize(("iso", "words"), [("P7D", "7 days"), ("P1D", "1 day"), ("P2W", "2 weeks"),
                                            ("P14D", "14 days"), ("PT172800S", "2 days"), ("PT36H", "36 hours"),
                                            ("PT1H", "1 hour"),
                                            ("PT90M", "90 minutes"), ("", ""), (None, ""), ("junk", "junk")])
def test_durations_read_as_words(iso, words):
    assert duration_words(iso) == words


@pytest.mark.parametrize(("count", "unit"), [(7, "days"), (2, "weeks"), (36, "hours"), (1, "hours")])
def test_a_number_and_a_unit_round_trip_through_iso(count, unit):
    iso = join_duration(count, unit)
    assert parse_duration(iso) == timedelta(seconds=count * {"hours": 3600, "days": 86400, "weeks": 604800}[unit])
    assert split_duration(iso) == (count, unit)


@pytest.mark.parametrize(("count", "unit"), [(0, "days"), (-1, "hours"), (3, "months")])
def test_a_bad_count_or_unit_is_refused(count, unit):
    with pytest.raises(ValueError):
        join_duration(count, unit)


def test_deadlines_read_relative_to_now():
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert due_words(now + timedelta(days=2, hours=3), now) == "due in 2 days"
    assert due_words(now + timedelta(hours=5), now) == "due in 5 hours"
    assert due_words(now - timedelta(days=1, hours=1), now) == "overdue by 1 day"
    assert due_words(None, now) == ""


@pytest.mark.parametrize(("seconds", "words"), [(100800, "1 d 4 h"), (86400, "1 d"), (86400 + 59, "1 d"),
                                                (5400, "1 h 30 min"), (3600, "1 h"), (2400.4, "40 min"),
                                                (30, "under a minute"), (6 * 86400 + 60, "6 d"), (None, "")])
def test_a_measured_span_reads_in_its_two_largest_units(seconds, words):
    assert span_words(seconds) == words
