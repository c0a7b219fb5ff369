"""The portal's read side (SQLite and PostgreSQL): only the contact's own customer, sections hidden by the
settings, review tasks with their evidence and urgency, project views, visits, photo zips, documents, calendars."""

import io
import zipfile
from datetime import date

import pytest
from sqlalchemy import event

from engine.errors import NotFound
from engine.models import Registration
from engine.services import approvals, jobs
from engine.services.portal_decisions import decide_tasks
from engine.services.portal_files import document_pdf, list_documents, photo_file, photos_zip, receipt_file
from engine.services.portal_views import get_review_task, list_review_tasks, portal_home, project_view
from engine.services.portal_visits import month_calendar, visits_calendar, visits_overview
from engine.storage import IMAGE
from tests.approval_fixtures import NOV, PNG, add_document, add_expense, add_hours, contact, set_flags, show_overview


def test_a_contact_finds_nothing_of_another_customer(ctx, customer, job, other):
    dana, mine = contact(customer["id"]), customer["id"]
    show_overview(ctx, mine)
    with pytest.raises(NotFound):
        portal_home(ctx, dana, other["id"])
    with pytest.raises(NotFound):
        list_review_tasks(ctx, dana, other["id"])
    with pytest.raises(NotFound):
        project_view(ctx, dana, mine, other["job_id"])
    with pytest.raises(NotFound):
        photo_file(ctx, dana, mine, other["photo_id"])
    with pytest.raises(NotFound):
        document_pdf(ctx, dana, mine, other["invoice_id"])
    with pytest.raises(NotFound):
        get_review_task(ctx, dana, mine, other["task_id"])
    with pytest.raises(NotFound):
        photos_zip(ctx, dana, mine, visit_id=other["visit_id"])
    assert portal_home(ctx, dana, mine)["open_tasks"] == [] and list_documents(ctx, dana, mine) == []
    assert visits_overview(ctx, dana, mine, NOV, NOV) == []
    assert photo_file(ctx, contact(other["id"]), other["id"], other["photo_id"])[0].is_file()


def test_the_settings_and_the_customer_flag_hide_sections(ctx, office, customer, job, timesheet):
    admin, _ = office
    dana, cid = contact(customer["id"]), customer["id"]
    assert all(portal_home(ctx, dana, cid)["sections"].values())
    set_flags(ctx, admin, portal_shows_visits=False, portal_shows_invoices=False, portal_shows_expenses=False)
    home = portal_home(ctx, dana, cid)
    assert home["sections"] == {"hours": True, "expenses": False, "mileage": True, "visits": False,
                                "invoices": False, "quotes": True}
    assert home["jobs"][0]["counts"] == {"submitted": 2}
    for hidden in (lambda: visits_overview(ctx, dana, cid, NOV, NOV), lambda: list_documents(ctx, dana, cid),
                   lambda: project_view(ctx, dana, cid, job["id"], "expense"),
                   lambda: photo_file(ctx, dana, cid, timesheet["photo_ids"][0])):
        with pytest.raises(NotFound):
            hidden()
    (task,) = list_review_tasks(ctx, dana, cid)
    assert [e["kind"] for e in task["evidence"]] == ["hours", "hours"]
    assert all(e["visits"] == [] for e in task["evidence"])
    set_flags(ctx, admin)
    show_overview(ctx, cid, on=False)
    with pytest.raises(NotFound):
        visits_overview(ctx, dana, cid, NOV, NOV)
    assert portal_home(ctx, dana, cid)["sections"]["visits"] is False


def test_the_evidence_lists_the_linked_work_with_the_visit_and_its_photos(ctx, customer, timesheet, eli):
    (task,) = list_review_tasks(ctx, contact(customer["id"]), customer["id"])
    assert (task["kind"], task["instance_id"], task["element_id"]) == ("Job", timesheet["instance_id"], "review_job")
    assert task["title"] and any(field["id"] == "decision" for field in task["form"])
    by_id = {e["id"]: e for e in task["evidence"]}
    assert set(by_id) == {*timesheet["hours"], timesheet["expense"]}
    first = by_id[timesheet["hours"][0]]
    assert (first["employee_name"], first["date"], first["minutes"], first["status"]) == \
        ("Eli Employee", "2026-11-03", 120, "submitted")
    (visit,) = first["visits"]
    assert visit["id"] == timesheet["visit_id"] and [p["id"] for p in visit["photos"]] == timesheet["photo_ids"]
    assert (visit["planned_minutes"], visit["actual_minutes"], visit["difference_minutes"]) == (120, 150, 30)
    assert by_id[timesheet["hours"][1]]["visits"] == []  # another employee, another day
    assert by_id[timesheet["expense"]]["amount"] == "12.50"


def test_urgency_follows_the_clock(ctx, customer, timesheet, clock):
    dana = contact(customer["id"])
    assert list_review_tasks(ctx, dana, customer["id"])[0]["urgency"] == ""
    clock.advance(days=5, hours=1)
    assert list_review_tasks(ctx, dana, customer["id"])[0]["urgency"] == "soon"
    clock.advance(days=2)
    assert portal_home(ctx, dana, customer["id"])["open_tasks"][0]["urgency"] == "overdue"


def test_the_project_view_filters_totals_and_offers_decisions_while_the_review_is_open(ctx, customer, job, eli,
                                                                                       timesheet):
    dana, cid = contact(customer["id"]), customer["id"]
    view = project_view(ctx, dana, cid, job["id"])
    assert [r["id"] for r in view["rows"]] == timesheet["hours"]
    assert view["totals"]["minutes"] == 180 and view["totals"]["count"] == 2
    assert sorted(view["decidable_ids"]) == sorted(timesheet["hours"])
    assert [name for _, name in view["employees"]] == ["Eli Employee", "Max Manager"]
    only_eli = project_view(ctx, dana, cid, job["id"], employee_id=eli.id, date_from=NOV, date_to=NOV)
    assert [r["id"] for r in only_eli["rows"]] == timesheet["hours"][:1] and only_eli["totals"]["minutes"] == 120
    assert project_view(ctx, dana, cid, job["id"], status="approved")["rows"] == []
    expenses = project_view(ctx, dana, cid, job["id"], "expense")
    assert expenses["totals"]["amount_cents"] == 1250 and expenses["totals"]["amount"] == "12.50"
    with pytest.raises(NotFound):
        project_view(ctx, dana, cid, job["id"], "everything")
    (task,) = list_review_tasks(ctx, dana, cid)
    assert decide_tasks(ctx, dana, [task["id"]], "approve")[0]["ok"]
    after = project_view(ctx, dana, cid, job["id"])
    assert after["decidable_ids"] == [] and all(r["status"] == "approved" for r in after["rows"])
    assert list_review_tasks(ctx, dana, cid) == []


def test_the_zip_holds_the_photos_under_safe_unique_names(ctx, customer, timesheet):
    dana, cid = contact(customer["id"]), customer["id"]
    data, name = photos_zip(ctx, dana, cid, visit_id=timesheet["visit_id"])
    assert name == f"visit-{timesheet['visit_id']}-photos.zip"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["2026-11-03_Eli_Employee_1.png", "2026-11-03_Eli_Employee_2.png"]
        assert all(archive.read(entry) == PNG for entry in archive.namelist())
    data, name = photos_zip(ctx, dana, cid, date_from=NOV, date_to=NOV)
    assert name == "photos-2026-11-03-2026-11-03.zip" and len(zipfile.ZipFile(io.BytesIO(data)).namelist()) == 2
    with pytest.raises(NotFound):
        photos_zip(ctx, dana, cid, date_from=date(2026, 12, 1), date_to=date(2026, 12, 31))
    path, original, content_type = photo_file(ctx, dana, cid, timesheet["photo_ids"][0])
    assert path.read_bytes() == PNG and (original, content_type) == ("IMG 0.png", "image/png")


def test_drafts_are_not_shown_and_pdfs_download_under_their_number(ctx, customer):
    dana, cid = contact(customer["id"]), customer["id"]
    add_document(ctx, cid, "2026-013", status="draft")
    sent = add_document(ctx, cid, "2026-014")
    draft_quote = add_document(ctx, cid, "Q-1", status="draft", kind="quote")
    (shown,) = list_documents(ctx, dana, cid)
    assert (shown["id"], shown["amount"], shown["amount_cents"], shown["has_pdf"]) == (sent, "1234.50", 123450, True)
    assert list_documents(ctx, dana, cid, "quote") == []
    path, download, content_type = document_pdf(ctx, dana, cid, sent)
    assert path.read_bytes().startswith(b"%PDF") and (download, content_type) == ("invoice-2026-014.pdf",
                                                                                  "application/pdf")
    with pytest.raises(NotFound):
        document_pdf(ctx, dana, cid, draft_quote)


def test_calendars_are_full_monday_first_weeks(ctx, customer, timesheet):
    weeks = month_calendar(2026, 11)
    assert weeks[0][0] == date(2026, 10, 26) and weeks[-1][-1] == date(2026, 12, 6)
    assert all(len(week) == 7 and week[0].weekday() == 0 for week in weeks)
    month = visits_calendar(ctx, contact(customer["id"]), customer["id"], "month", NOV)
    assert len(month["weeks"]) == 6 and (month["prev"], month["next"]) == ("2026-10-01", "2026-12-01")
    days = {day["date"]: day for week in month["weeks"] for day in week}
    assert [v["id"] for v in days["2026-11-03"]["visits"]] == [timesheet["visit_id"]]
    assert days["2026-10-26"]["in_month"] is False and days["2026-11-30"]["in_month"] is True
    week = visits_calendar(ctx, contact(customer["id"]), customer["id"], "week", NOV)
    (row,) = week["weeks"]
    assert [d["date"] for d in row][0] == "2026-11-02" and len(row) == 7
    assert (week["prev"], week["next"]) == ("2026-10-26", "2026-11-09") and len(row[1]["visits"]) == 1


def count_statements(ctx, call) -> int:
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(ctx.db, "before_cursor_execute", listener)
    try:
        call()
    finally:
        event.remove(ctx.db, "before_cursor_execute", listener)
    return len(seen)


def test_review_tasks_take_the_same_few_queries_however_many_there_are(ctx, office, customer, job, timesheet, eli):
    _, manager = office
    dana, cid = contact(customer["id"]), customer["id"]
    one = count_statements(ctx, lambda: list_review_tasks(ctx, dana, cid))
    for name in ("Gutters", "Roof", "Doors"):
        extra = jobs.create_job(ctx, cid, staff=manager, name=name, requires_customer_approval=True)
        add_hours(ctx, extra["id"], eli.id, NOV)
        approvals.send_job_for_approval(ctx, extra["id"], staff=manager)
    assert len(list_review_tasks(ctx, dana, cid)) == 4
    assert count_statements(ctx, lambda: list_review_tasks(ctx, dana, cid)) == one


def test_a_receipt_downloads_only_for_its_own_customer(ctx, customer, job, eli, other):
    stored = ctx.files.save("receipt", PNG, "bon.png", IMAGE)
    expense = add_expense(ctx, job["id"], eli.id, NOV, 500)
    with ctx.uow() as uow:
        uow.session.get(Registration, expense).receipt_file = stored.stored_name
        uow.session.get(Registration, expense).receipt_name = "bon.png"
        uow.commit()
    path, name, content_type = receipt_file(ctx, contact(customer["id"]), customer["id"], expense)
    assert path.read_bytes() == PNG and (name, content_type) == ("bon.png", "image/png")
    with pytest.raises(NotFound):
        receipt_file(ctx, contact(other["id"]), other["id"], expense)


def test_drafts_stay_with_the_staff_until_they_are_sent(ctx, office, customer, job):
    _, manager = office
    draft = add_hours(ctx, job["id"], manager.id, date(2026, 11, 2))
    view = project_view(ctx, contact(customer["id"]), customer["id"], job["id"])
    assert draft not in [row["id"] for row in view["rows"]] and "draft" not in view["statuses"]
    home = portal_home(ctx, contact(customer["id"]), customer["id"])
    assert all("draft" not in j["counts"] for j in home["jobs"])
