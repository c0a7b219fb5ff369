"""Per element of a version: cases waiting now, and the median and 90th percentile time at user tasks, banded."""

from datetime import timedelta

import pytest

from engine.errors import InvalidInput, NotFound
from engine.services.context import Actor
from engine.services.instances import complete_task, start_instance
from engine.services.process_stats import get_process_stats, percentile
from tests.engine.helpers import JOB_START, only_open_task


@pytest.fixture
def reviewed(ctx, deploy, clock):
    """Three reviews decided after 1 h, 2 h and 6 days (customers 7, 7, 8); a fourth case still waiting."""
    deploy("bpmn/job_approval.bpmn")
    started = clock.now
    ids = [start_instance(ctx, "job_approval", {**JOB_START, "customer_id": c}) for c in (7, 7, 8)]
    for iid, after in zip(ids, (timedelta(hours=1), timedelta(hours=2), timedelta(days=6)), strict=True):
        clock.now = started + after
        complete_task(ctx, only_open_task(ctx, iid, "review_job").id, {"decision": "approve"})
    ids.append(start_instance(ctx, "job_approval", dict(JOB_START)))
    return started, ids


def test_waiting_counts_and_review_times_are_per_element(ctx, reviewed):
    stats = get_process_stats(ctx, "job_approval", 1)
    review = stats["review_job"]
    assert (review.name, review.waiting, review.decided) == ("Review the job", 1, 3)
    assert review.median_seconds == 7200
    assert review.p90_seconds == pytest.approx(7200 + (6 * 86400 - 7200) * 0.8)
    assert review.band == "slow"  # 90th percentile 4.8 days: between a day and five
    assert (stats["reminder_due"].timers, stats["period_expired"].timers) == (1, 1)
    assert stats["answer_query"].decided == 0 and stats["answer_query"].band == ""
    assert stats["mark_approved"].band == "" and stats["mark_approved"].waiting == 0
    assert review.user_task and not stats["mark_approved"].user_task and not stats["reminder_due"].user_task


def test_a_period_and_a_customer_narrow_the_times(ctx, reviewed):
    started, _ = reviewed
    day = started.date()
    only_first_day = get_process_stats(ctx, "job_approval", 1, period_from=day.isoformat(),
                                       period_to=day.isoformat())["review_job"]
    assert (only_first_day.decided, only_first_day.median_seconds, only_first_day.band) == (2, 5400, "fast")
    of_customer_8 = get_process_stats(ctx, "job_approval", 1, customer="8")["review_job"]
    assert (of_customer_8.decided, of_customer_8.band, of_customer_8.waiting) == (1, "stuck", 0)


def test_the_stats_count_only_cases_in_scope(ctx, reviewed):
    contact = Actor("dana", frozenset({"customer"}), frozenset({8}))
    review = get_process_stats(ctx, "job_approval", 1, contact)["review_job"]
    assert (review.decided, review.waiting) == (1, 0)


def test_bad_requests_are_named(ctx, reviewed):
    with pytest.raises(NotFound, match="no version 4"):
        get_process_stats(ctx, "job_approval", 4)
    with pytest.raises(InvalidInput, match="^from: "):
        get_process_stats(ctx, "job_approval", 1, period_from="last week")
    with pytest.raises(InvalidInput, match="^customer: "):
        get_process_stats(ctx, "job_approval", 1, customer="Mill House")
    with pytest.raises(InvalidInput, match="^to: is before from"):
        get_process_stats(ctx, "job_approval", 1, period_from="2026-12-02", period_to="2026-12-01")


def test_the_python_percentile_interpolates_like_percentile_cont():
    assert percentile([1.0], 0.9) == 1.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert percentile([10.0, 20.0, 30.0], 0.9) == pytest.approx(28.0)
