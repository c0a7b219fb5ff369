"""On the 1st of a month the board's "Send hours of a period" opens on the latest month with unsent hours and
links the previous and the next month; the board uses the screen's width (SQLite and PostgreSQL)."""

from datetime import date, timedelta

from tests.approval_fixtures import PASSWORD, add_hours
from tests.webapp.conftest import log_in


def test_on_the_first_the_board_opens_on_last_months_unsent_hours(ctx, client, clock, office, customer, job, eli):
    _, manager = office
    add_hours(ctx, job["id"], eli.id, date(2026, 11, 20), 90)
    clock.advance(days=7)  # 1 December 2026
    assert clock().date() == date(2026, 12, 1)
    log_in(client, manager.email, PASSWORD)
    page = client.get("/approvals").get_data(as_text=True)
    assert 'id="from" name="from" value="2026-11-01"' in page and 'value="2026-11-30"' in page
    assert "1 registration, 1:30 h" in page and "No unsent hours" not in page
    assert "from=2026-10-01&amp;to=2026-10-31" in page and "from=2026-12-01&amp;to=2026-12-31" in page
    december = client.get("/approvals?from=2026-12-01&to=2026-12-31").get_data(as_text=True)
    assert "No unsent hours between 2026-12-01 and 2026-12-31" in december
    assert '<main class="wide">' in page


def test_this_month_stays_the_default_while_it_has_unsent_hours(ctx, client, clock, office, customer, job, eli):
    _, manager = office
    add_hours(ctx, job["id"], eli.id, date(2026, 10, 2))
    add_hours(ctx, job["id"], eli.id, clock().date() - timedelta(days=1))
    log_in(client, manager.email, PASSWORD)
    page = client.get("/approvals").get_data(as_text=True)
    assert 'id="from" name="from" value="2026-11-01"' in page
