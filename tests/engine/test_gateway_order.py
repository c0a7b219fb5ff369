"""Exclusive gateways try conditions in document order (as Camunda does), not by diagram position."""

from engine.services.instances import complete_task, start_instance
from tests.conftest import ROOT
from tests.engine.helpers import completed_elements, only_open_task

FIXTURE = ROOT / "tests/fixtures/bpmn/camunda_style_review.bpmn"


def _move_shape(xml: str, element: str, dy: int) -> str:
    start = xml.index(f'bpmnElement="{element}"')
    y_at = xml.index('y="', xml.index("<dc:Bounds", start)) + 3
    y_end = xml.index('"', y_at)
    return xml[:y_at] + str(int(float(xml[y_at:y_end])) + dy) + xml[y_end:]


def test_first_true_condition_in_the_file_wins_even_if_drawn_lower(ctx, deploy, tmp_path):
    # approve + urgent matches both 'accepted' (first in the file) and 'refused'; draw 'accepted' lowest.
    path = tmp_path / "moved.bpmn"
    path.write_text(_move_shape(FIXTURE.read_text(), "expense_accepted", dy=2000))
    deploy(str(path))
    iid = start_instance(ctx, "expense_review", {})
    task = only_open_task(ctx, iid, "review_expense")
    complete_task(ctx, task.id, {"decision": "approve", "urgent": True, "amount_cents": 5})
    assert completed_elements(ctx, iid)[-1] == "expense_accepted"
