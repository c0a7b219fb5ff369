"""Moving running cases to another version: preview in business terms, the move, refusals, on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest

from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.models import ProcessVersion
from engine.services.case_migration import list_migration_versions, migrate_cases, preview_migration
from engine.services.case_story import get_case_story
from engine.services.context import SYSTEM, Actor
from engine.services.deployments import deploy_file
from engine.services.instances import complete_task, start_instance
from engine.services.timers import fire_due_timers
from tests.conftest import ROOT
from tests.engine.helpers import JOB_START, events, instance, only_open_task, run_together, timers
from tests.engine.test_script_errors import chain, run, script, user

ADMIN = Actor("ada@example.com", staff_id=1, staff_role="admin")
MANAGER = Actor("max@example.com", staff_id=2, staff_role="manager")
SOURCE = (ROOT / "bpmn/job_approval.bpmn").read_text()


def renamed_review() -> str:
    """Version 2: the same diagram, the review task called otherwise."""
    return SOURCE.replace('name="Review the job"', 'name="Check the job"')


def without_answer_query() -> str:
    """Version 3: answer_query replaced by a task of another id."""
    return SOURCE.replace('"answer_query"', '"answer_question"').replace(">answer_query<", ">answer_question<")


@pytest.fixture
def versions(ctx):
    def deploy_text(text: str, name: str = "job_approval.bpmn") -> int:
        return deploy_file(ctx, SYSTEM, text.encode(), name)[0].version

    assert deploy_text(SOURCE) == 1
    return deploy_text


def start(ctx) -> int:
    return start_instance(ctx, "job_approval", dict(JOB_START))


def ask_question(ctx, iid: int) -> None:
    complete_task(ctx, only_open_task(ctx, iid, "review_job").id, {"decision": "query", "comment": "Inside too?"})


def test_a_case_waiting_at_a_task_both_versions_have_moves_and_completes_on_the_new_one(ctx, versions, clock):
    iid = start(ctx)
    due_before = [(t.element_id, t.due_at) for t in timers(ctx, iid)]
    task_id = only_open_task(ctx, iid, "review_job").id
    assert versions(renamed_review()) == 2
    result = migrate_cases(ctx, ADMIN, "job_approval", 1, 2, reason="renamed the review")
    assert result["moved"] == [iid] and result["refused"] == {}
    moved = only_open_task(ctx, iid, "review_job")
    assert moved.id == task_id and moved.name == "Check the job"  # same task, the new version's words
    assert [(t.element_id, t.due_at) for t in timers(ctx, iid)] == due_before  # the clock did not restart
    (event,) = events(ctx, iid, "instance_migrated")
    assert event.actor == "ada@example.com"
    assert event.data == {"from_version": 1, "to_version": 2, "reason": "renamed the review"}
    clock.advance(days=1)
    complete_task(ctx, task_id, {"decision": "approve"})
    row = instance(ctx, iid)
    assert row.status == "completed" and row.case_status == "approved"


def test_a_moved_case_still_gets_its_reminder_and_its_deadline_on_the_new_version(ctx, versions, clock):
    iid = start(ctx)
    versions(renamed_review())
    migrate_cases(ctx, SYSTEM, "job_approval", 1, 2, reason="new wording")
    clock.advance(days=7, minutes=1)
    fire_due_timers(ctx)
    assert instance(ctx, iid).case_status == "expired_auto_approved"


def test_a_case_at_a_removed_task_is_refused_and_left_as_it_was(ctx, versions):
    waiting = start(ctx)
    asked = start(ctx)
    ask_question(ctx, asked)
    before = instance(ctx, asked)
    assert versions(without_answer_query()) == 2
    preview = preview_migration(ctx, ADMIN, "job_approval", 1, 2)
    assert (preview["will_move"], preview["cannot_move"]) == (1, 1)
    assert preview["summary"] == [
        "1 case waiting at Review the job will move",
        "1 case waiting at Answer the customer's question cannot move, because Answer the customer's question "
        "no longer exists in version 2"]
    result = migrate_cases(ctx, ADMIN, "job_approval", 1, 2, reason="new question step")
    assert result["moved"] == [waiting]
    assert result["refused"] == {asked: "Answer the customer's question no longer exists in version 2"}
    assert result["summary"] == [
        "1 case waiting at Review the job moved",
        "1 case waiting at Answer the customer's question stayed, because Answer the customer's question "
        "no longer exists in version 2"]
    after = instance(ctx, asked)
    assert (after.process_version_id, after.state, after.lock_version) == (
        before.process_version_id, before.state, before.lock_version)
    assert events(ctx, asked, "instance_migrated") == []
    complete_task(ctx, only_open_task(ctx, asked, "answer_query").id, {"answer": "Yes"})  # still on version 1
    assert only_open_task(ctx, asked, "review_job")


def test_the_preview_changes_nothing_and_a_filter_narrows_the_move(ctx, versions, clock):
    first = start(ctx)
    clock.advance(days=2)
    second = start(ctx)
    versions(renamed_review())
    preview_migration(ctx, ADMIN, "job_approval", 1, 2)
    assert instance(ctx, first).process_version_id == instance(ctx, second).process_version_id
    day = (clock.now - timedelta(hours=1)).date().isoformat()
    result = migrate_cases(ctx, ADMIN, "job_approval", 1, 2, {"started_from": day}, reason="only the new ones")
    assert result["moved"] == [second]
    assert preview_migration(ctx, ADMIN, "job_approval", 1, 2)["will_move"] == 1


def test_only_admins_migrate_and_bad_requests_are_named(ctx, versions):
    versions(renamed_review())
    with pytest.raises(NotAllowed):
        preview_migration(ctx, MANAGER, "job_approval", 1, 2)
    with pytest.raises(NotAllowed):
        migrate_cases(ctx, MANAGER, "job_approval", 1, 2, reason="x")
    with pytest.raises(NotFound, match="no version 9"):
        preview_migration(ctx, ADMIN, "job_approval", 1, 9)
    with pytest.raises(InvalidInput, match="already on version 1"):
        preview_migration(ctx, ADMIN, "job_approval", 1, 1)
    with pytest.raises(InvalidInput, match="reason"):
        migrate_cases(ctx, ADMIN, "job_approval", 1, 2, reason=" ")
    with pytest.raises(InvalidInput, match="status"):
        preview_migration(ctx, ADMIN, "job_approval", 1, 2, {"status": "sleeping"})
    with pytest.raises(InvalidInput, match="version: given by the migration"):
        preview_migration(ctx, ADMIN, "job_approval", 1, 2, {"version": "3"})


def version_of(ctx, row) -> int:
    with ctx.uow() as uow:
        return uow.session.get(ProcessVersion, row.process_version_id).version


def test_a_case_in_error_moves_to_the_corrected_version_and_keeps_its_error_for_a_retry(ctx):
    broken = run(ctx, "totals", script("compute_total", "total = 1 / 0"), user("check_total"))
    assert instance(ctx, broken).status == "error"
    deploy_file(ctx, SYSTEM, chain("totals", script("compute_total", "total = 1"), user("check_total")), "totals.bpmn")
    assert migrate_cases(ctx, ADMIN, "totals", 1, 2, {"in_error": "yes"}, reason="fixed the script")["moved"] == [
        broken]
    row = instance(ctx, broken)
    assert (row.status, row.error_element) == ("error", "compute_total")
    assert version_of(ctx, row) == 2


def test_a_move_and_a_decision_at_the_same_moment_both_land_once(ctx, versions):
    iid = start(ctx)
    task_id = only_open_task(ctx, iid, "review_job").id
    versions(renamed_review())
    (moved, _), (completed, error) = run_together(
        lambda: migrate_cases(ctx, ADMIN, "job_approval", 1, 2, reason="race"),
        lambda: complete_task(ctx, task_id, {"decision": "approve"}))
    assert error is None and completed.status == "completed"
    row = instance(ctx, iid)
    assert row.status == "completed" and row.case_status == "approved"
    migrated = events(ctx, iid, "instance_migrated")
    if moved["moved"]:  # the move came first: the decision was taken on version 2
        assert len(migrated) == 1 and version_of(ctx, row) == 2
    else:  # the decision came first: the finished case stayed on version 1 (selected before it finished, or not)
        assert migrated == [] and version_of(ctx, row) == 1
        assert moved["refused"] in ({}, {iid: "it changed meanwhile (finished, cancelled or moved)"})


def test_the_preview_lists_the_cases_per_place_and_the_form_knows_which_versions_have_cases(ctx, versions):
    waiting, asked = start(ctx), start(ctx)
    ask_question(ctx, asked)
    versions(without_answer_query())
    preview = preview_migration(ctx, ADMIN, "job_approval", 1, 2)
    assert [m["case_ids"] for m in preview["moves"]] == [[waiting]]
    assert [r["case_ids"] for r in preview["refusals"]] == [[asked]]
    assert list_migration_versions(ctx, ADMIN)["job_approval"] == [{"version": 1, "movable": 2},
                                                                    {"version": 2, "movable": 0}]
    with pytest.raises(NotAllowed):
        list_migration_versions(ctx, MANAGER)


def test_the_story_tells_what_happened_before_a_move_in_the_old_versions_words(ctx, versions):
    iid = start(ctx)
    assert versions(renamed_review()) == 2
    migrate_cases(ctx, ADMIN, "job_approval", 1, 2, reason="renamed the review")
    ask_question(ctx, iid)
    complete_task(ctx, only_open_task(ctx, iid, "answer_query").id, {"answer": "Yes"})
    lines = [line["text"] for line in get_case_story(ctx, iid)["timeline"] if line["level"] == "main"]
    moved = lines.index("ada@example.com moved the case from version 1 to 2: 'renamed the review'")
    assert "Waiting at Review the job" in lines[:moved] and "Waiting at Check the job" not in lines[:moved]
    assert lines[-1] == "Waiting at Check the job"  # the review again, after the move: version 2's words


def test_a_selection_larger_than_one_call_says_so_and_the_next_call_moves_the_rest(ctx, versions, monkeypatch):
    monkeypatch.setattr("engine.services.case_migration.MAX_CASES", 2)
    ids = [start(ctx) for _ in range(3)]
    assert versions(renamed_review()) == 2
    preview = preview_migration(ctx, ADMIN, "job_approval", 1, 2)
    assert preview["more"] and preview["will_move"] == 2
    assert preview["summary"][-1].startswith("Only the oldest 2 cases of the selection were looked at")
    first = migrate_cases(ctx, ADMIN, "job_approval", 1, 2, reason="renamed the review")
    assert first["moved"] == ids[:2] and first["more"]
    rest = migrate_cases(ctx, ADMIN, "job_approval", 1, 2, reason="renamed the review")
    assert rest["moved"] == ids[2:] and not rest["more"]
