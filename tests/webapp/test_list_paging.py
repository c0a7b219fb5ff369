"""Page links of the keyset-paged lists: following "Next" through the manager's inbox shows every one of its tasks
once and never another manager's customer's; "Previous" comes back; a malformed cursor is a 400 with a message."""

import re

from engine.bench.seed import clone, read_template
from engine.services.customers import create_customer
from engine.services.inbox import list_open_tasks
from engine.services.staff_auth import create_staff_user
from tests.webapp.conftest import PASSWORD

TASK_LINK = re.compile(r'href="/tasks/(\d+)"')
NEXT, PREV = re.compile(r'rel="next" href="([^"]+)"'), re.compile(r'rel="prev" href="([^"]+)"')


def _manager_tasks(ctx, instance_id: int) -> list[int]:
    return [t["id"] for t in list_open_tasks(ctx, instance_id, size=500) if t["role"] == "manager"]


def test_following_next_lists_every_task_of_the_manager_once_and_previous_goes_back(ctx, escalated_job, as_manager):
    escalated, _ = escalated_job
    template = read_template(ctx, escalated)
    clone(ctx, template, 60)  # the same customer of Mia's: 61 manager tasks in all
    other = create_staff_user(ctx, "olga@example.com", "Olga Other", "manager", PASSWORD)
    foreign = create_customer(ctx, staff=other, name="Not Mia's")["id"]
    clone(ctx, template, 5, lambda n: {"customer_id": foreign})
    mine = {t["id"] for t in list_open_tasks(ctx, size=500) if t["role"] == "manager" and t["customer_id"] != foreign}
    seen, url, pages = [], "/inbox?process=job_approval", []
    while url:
        page = as_manager.get(url.replace("&amp;", "&")).get_data(as_text=True)
        pages.append(url)
        seen += [int(n) for n in TASK_LINK.findall(page)]
        url = (NEXT.findall(page) or [""])[0]
    assert len(pages) == 2 and len(seen) == len(mine) == 61 and set(seen) == mine
    assert "process=job_approval" in pages[1]  # the filter stays on the next page
    back = (PREV.findall(as_manager.get(pages[1].replace("&amp;", "&")).get_data(as_text=True)) or [""])[0]
    first = as_manager.get(back.replace("&amp;", "&")).get_data(as_text=True)
    assert [int(n) for n in TASK_LINK.findall(first)] == seen[:50]


def test_a_malformed_or_foreign_cursor_is_a_400_with_a_message(ctx, escalated_job, as_manager):
    response = as_manager.get("/inbox?cursor=not-a-cursor")
    assert response.status_code == 400 and "cursor" in response.get_data(as_text=True)
    tasks_cursor = list_open_tasks(ctx, size=1).next_cursor
    response = as_manager.get(f"/approvals?cursor={tasks_cursor}")
    assert response.status_code == 400 and "cursor" in response.get_data(as_text=True)
