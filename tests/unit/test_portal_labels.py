"""How the portal names items and periods: registrations by what they are, reviews by their work, and the
periods before and after a work-hours period."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from engine.services.portal_approvals import is_quick_form, posted_values
from engine.services.portal_outcomes import moment_text, registration_label, review_label
from engine.services.portal_periods import neighbour_periods


def row(day: str, kind: str = "hours", minutes: int | None = 480, cents: int | None = None, km=None,
        description: str | None = "skylights") -> dict:
    return {"kind": kind, "date": day, "minutes": minutes, "amount_cents": cents, "km": km,
            "description": description}


def test_a_registration_is_named_by_its_day_amount_and_description():
    assert registration_label("hours", date(2026, 11, 3), 480, None, None, "skylights") == "3 Nov, 8:00 h, skylights"
    assert registration_label("expense", date(2026, 11, 3), None, 1250, None, "parking") == "3 Nov, 12.50, parking"
    assert registration_label("mileage", date(2026, 11, 3), None, None, 42.5, None) == "3 Nov, 42.5 km"


def test_a_review_is_named_by_its_one_item_or_its_span_and_total():
    assert review_label("Windows", [row("2026-11-03")]) == "Windows: 3 Nov, 8:00 h, skylights"
    many = [row("2026-11-03"), row("2026-11-05", minutes=90), row("2026-11-04", kind="expense", minutes=None,
                                                                   cents=500)]
    assert review_label("Windows", many) == "Windows (3 items, 3 Nov–5 Nov, 9:30 h)"
    assert review_label("Windows", []) == "Windows"


def test_moments_are_shown_in_the_company_zone():
    moment = datetime(2026, 12, 2, 13, 5, tzinfo=UTC)
    assert moment_text(moment, ZoneInfo("Europe/Amsterdam")) == "2 Dec at 14:05"


def test_whole_months_page_by_month_and_other_spans_by_their_length():
    assert neighbour_periods(date(2026, 2, 1), date(2026, 2, 28)) == ((date(2026, 1, 1), date(2026, 1, 31)),
                                                                (date(2026, 3, 1), date(2026, 3, 31)))
    assert neighbour_periods(date(2026, 2, 10), date(2026, 2, 16)) == ((date(2026, 2, 3), date(2026, 2, 9)),
                                                                 (date(2026, 2, 17), date(2026, 2, 23)))


def test_only_a_decision_and_a_comment_make_a_one_click_form():
    decision = {"id": "decision", "type": "enum"}
    comment = {"id": "comment", "type": "string"}
    assert is_quick_form([decision, comment]) and is_quick_form([decision])
    assert not is_quick_form([decision, comment, {"id": "po_number", "type": "string"}])
    assert not is_quick_form([comment])
    flag = {"id": "urgent", "type": "boolean"}
    assert posted_values([decision, flag], {"decision": " approve ", "hours": "99"}) == {
        "decision": "approve", "urgent": "false"}
