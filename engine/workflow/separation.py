"""Separation of duties declared on a user task: who may not complete it, read from the diagram.

A user task carries `camunda:property name="signoff:not"` in its own `camunda:properties` (not a form field's),
with a value of `sender`, `previous_approver` or both separated by commas. The parser keeps the rules in
`task_spec.extensions['separation']`; the runtime copies them to the task's human_task row, and
engine.services.task_offer enforces them for every surface.
"""

from collections.abc import Callable

PROPERTY = "signoff:not"
RULES = ("sender", "previous_approver")


def separation_rules(properties: list, refuse: Callable[[str], None]) -> list[str]:
    """The rules of a user task's `camunda:property` nodes, in declared order, without repeats.

    `refuse(message)` raises the parser's validation error (it names the element).
    """
    rules: list[str] = []
    for prop in properties:
        if (prop.get("name") or prop.get("id")) != PROPERTY:
            continue
        for rule in (part.strip() for part in (prop.get("value") or "").split(",")):
            if rule not in RULES:
                refuse(f"{PROPERTY} value {rule!r} is not a rule; rules are {', '.join(RULES)}")
            if rule not in rules:
                rules.append(rule)
    return rules
