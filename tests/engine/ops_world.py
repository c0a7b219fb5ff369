"""A small world for the operator-action, delegation and separation-of-duties tests: the ops_review process,
a customer of manager Max, another manager Mia (not on that customer), an employee, and cases Max sent."""

from dataclasses import dataclass

import pytest

from engine.services import customers
from engine.services.instances import start_instance
from engine.services.staff_auth import StaffView, create_staff_user
from tests.approval_fixtures import PASSWORD
from tests.engine.helpers import only_open_task

OPS_FILE = "tests/fixtures/bpmn/ops_review.bpmn"


@dataclass
class World:
    admin: StaffView
    max: StaffView
    mia: StaffView
    eve: StaffView
    customer_id: int

    def start(self, ctx, divisor: int = 2) -> int:
        """A case Max sends for customer `customer_id`."""
        return start_instance(ctx, "ops_review", {"customer_id": self.customer_id, "divisor": divisor},
                              self.max.actor)


@pytest.fixture
def world(ctx, deploy) -> World:
    deploy(OPS_FILE)
    admin = create_staff_user(ctx, "ada@example.com", "Ada Admin", "admin", PASSWORD)
    max_ = create_staff_user(ctx, "max@example.com", "Max Manager", "manager", PASSWORD)
    mia = create_staff_user(ctx, "mia@example.com", "Mia Manager", "manager", PASSWORD)
    eve = create_staff_user(ctx, "eve@example.com", "Eve Employee", "employee", PASSWORD)
    customer = customers.create_customer(ctx, staff=max_, name="Mill House", contact_name="Dana",
                                         contact_email="dana@millhouse.example")
    return World(admin, max_, mia, eve, customer["id"])


def task_at(ctx, instance_id: int, element_id: str) -> int:
    return only_open_task(ctx, instance_id, element_id).id
