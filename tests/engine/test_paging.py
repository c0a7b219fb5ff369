"""Keyset paging of the lists: every row exactly once across pages (forward and back), ties in the sort key broken
by id, NULL deadlines last, filters and scope applied on every page, and cursors that are refused when they are
malformed or were made for another list, filter or customer. On SQLite and PostgreSQL."""

from datetime import timedelta

import pytest

from engine.bench.seed import clone, read_template
from engine.errors import InvalidInput
from engine.models import Customer
from engine.services.context import Actor
from engine.services.inbox import list_open_tasks
from engine.services.instances import start_instance
from engine.services.portal_views import list_review_tasks
from tests.engine.helpers import JOB_START

PAGE = 4


def _customers(ctx, *names) -> list[int]:
    with ctx.uow() as uow:
        rows = [Customer(name=name, portal_access=True, created_at=ctx.clock()) for name in names]
        uow.session.add_all(rows)
        uow.session.flush()
        ids = [row.id for row in rows]
        uow.commit()
    return ids


def _walk(fetch) -> tuple[list, list]:
    """Every page forward from the first, then back from the last; the pages' rows in order, both ways."""
    pages = [fetch("")]
    while pages[-1].next_cursor:
        pages.append(fetch(pages[-1].next_cursor))
    back = [pages[-1]]
    while back[-1].prev_cursor:
        back.append(fetch(back[-1].prev_cursor))
    forward_rows = [row for page in pages for row in page]
    backward_rows = [row for page in reversed(back) for row in page]
    return forward_rows, backward_rows


@pytest.fixture
def world(ctx, deploy, clock):
    """Customer A with 13 open reviews (deadlines tied in threes, two without one) and customer B with 5."""
    deploy("bpmn/job_approval.bpmn")
    a, b = _customers(ctx, "Alder", "Birch")
    template = read_template(ctx, start_instance(ctx, "job_approval", {**JOB_START, "customer_id": b}))
    now = clock()
    clone(ctx, template, 13, lambda n: {"customer_id": a, "title": f"A{n}",
                                       "due_at": None if n in (3, 8) else now + timedelta(hours=n // 3)})
    clone(ctx, template, 4, lambda n: {"customer_id": b, "title": f"B{n}", "due_at": now})
    return a, b


def test_every_open_task_is_listed_once_across_pages_both_ways(ctx, world):
    forward, backward = _walk(lambda cursor: list_open_tasks(ctx, cursor=cursor, size=PAGE))
    ids = [task["id"] for task in forward]
    assert len(ids) == 18 and ids == sorted(set(ids))
    assert [task["id"] for task in backward] == ids


def test_portal_pages_keep_deadline_order_with_ties_and_nulls_last_and_only_the_customers_tasks(ctx, world):
    a, b = world
    contact = Actor("contact@alder.example", roles=frozenset({"customer"}), customer_ids=frozenset({a}))
    forward, backward = _walk(lambda cursor: list_review_tasks(ctx, contact, a, cursor, size=PAGE))
    every = list_review_tasks(ctx, contact, a, size=100)
    assert len(every) == 13 and all(task["title"].startswith("A") for task in every)
    expected = sorted(every, key=lambda t: (t["due_at"] is None, t["due_at"] or "", t["id"]))
    assert [t["id"] for t in forward] == [t["id"] for t in expected] == [t["id"] for t in backward]
    assert all(t["due_at"] is None for t in forward[-2:])


def test_a_cursor_of_another_customer_or_filter_is_refused_and_never_widens_the_scope(ctx, world):
    a, b = world
    contact_a = Actor("contact@alder.example", roles=frozenset({"customer"}), customer_ids=frozenset({a}))
    contact_b = Actor("contact@birch.example", roles=frozenset({"customer"}), customer_ids=frozenset({b}))
    cursor_a = list_review_tasks(ctx, contact_a, a, size=PAGE).next_cursor
    with pytest.raises(InvalidInput, match="cursor"):
        list_review_tasks(ctx, contact_b, b, cursor_a, size=PAGE)
    instance_cursor = list_open_tasks(ctx, cursor="", size=PAGE).next_cursor
    with pytest.raises(InvalidInput, match="cursor"):  # another list
        list_review_tasks(ctx, contact_a, a, instance_cursor)
    # another user's cursor of the same list only positions: the scope is still the actor's own
    scoped = Actor("contact@birch.example", roles=frozenset({"customer"}), customer_ids=frozenset({b}))
    seen = list_open_tasks(ctx, actor=scoped, cursor=instance_cursor, size=100)
    assert len(seen) > 0 and all(task["customer_id"] == b for task in seen)


@pytest.mark.parametrize("cursor", ["x", "%%%", "eyJsIjoidGFza3MifQ", "a" * 700, "ünïcode",
                                    "eyJsIjoidGFza3MiLCJmIjoiIiwiZCI6Im5leHQiLCJrIjpbInN0cmluZyJdfQ"])
def test_a_malformed_cursor_is_invalid_input(ctx, world, cursor):
    with pytest.raises(InvalidInput, match="cursor"):
        list_open_tasks(ctx, cursor=cursor)
