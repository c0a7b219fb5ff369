"""Saved dry-run scenarios per process id, re-run against every new draft as a regression check.

A scenario keeps its steps and the summary it ended with when saved (`expected`); `rerun_scenarios` runs each
against a draft and says which still end where they did, and `regression_sentence` puts that in one line.
"""

import re
from dataclasses import dataclass

from sqlalchemy import delete, select

from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.models import ProcessScenario, StaffRole
from engine.services.context import Actor, Context
from engine.services.dry_runs import DryRunResult, Step, dry_run, parse_steps
from engine.services.instances import check_variables

NAME_CHARS = 200
_GERUNDS = {"ends": "ending", "waits": "waiting", "stops": "stopping", "does": "doing"}


@dataclass(frozen=True)
class Scenario:
    id: int
    process_id: str
    name: str
    steps: list[Step]
    expected: str  # the dry run's summary when it was saved
    start_data: dict | None = None  # start variables over the sample case's, as the dry run had them


@dataclass(frozen=True)
class ScenarioOutcome:
    scenario: Scenario
    result: DryRunResult
    same: bool  # it still ends where it did


def _ensure_office(actor: Actor) -> None:
    if not actor.is_system and actor.staff_role not in (StaffRole.ADMIN, StaffRole.MANAGER):
        raise NotAllowed("only admins and managers may keep scenarios of processes")


def _view(row: ProcessScenario) -> Scenario:
    return Scenario(row.id, row.process_id, row.name, parse_steps(row.steps), row.expected, row.start_data)


def list_scenarios(ctx: Context, actor: Actor, process_id: str) -> list[Scenario]:
    """The process's saved scenarios, by name. :raises NotAllowed: not an admin or manager."""
    _ensure_office(actor)
    with ctx.read() as work:
        return [_view(row) for row in work.session.scalars(
            select(ProcessScenario).where(ProcessScenario.process_id == process_id).order_by(ProcessScenario.name))]


def save_scenario(ctx: Context, actor: Actor, process_id: str, name: str, steps: list[Step],
                  expected: str, start_data: dict | None = None) -> Scenario:
    """Save a scenario with the process (one of the same name is replaced), with the start variables its dry run
    had over the sample case's (`start_data`), so a re-run plays the same case.

    :raises NotAllowed: not an admin or manager. :raises InvalidInput: no name or process, a name too long,
        steps that do not parse, or start data that is not an object within the data limits.
    """
    _ensure_office(actor)
    name, process_id = (name or "").strip(), (process_id or "").strip()
    if not name or len(name) > NAME_CHARS:
        raise InvalidInput(f"name: give the scenario a name of 1 to {NAME_CHARS} characters")
    if not process_id:
        raise InvalidInput("process: a scenario is saved with a process id")
    raw = [step.as_dict() for step in steps]
    parse_steps(raw)  # the same checks as steps typed in
    if start_data is not None:
        if not isinstance(start_data, dict):
            raise InvalidInput("start data: an object of start variables, e.g. {\"expenses_total\": 750}")
        check_variables(ctx, start_data, "start data")
    with ctx.uow() as uow:
        session = uow.session
        session.execute(delete(ProcessScenario).where(ProcessScenario.process_id == process_id,
                                                      ProcessScenario.name == name))
        row = ProcessScenario(process_id=process_id, name=name, steps=raw, expected=expected or "",
                              start_data=start_data or None, saved_by=actor.name, saved_at=ctx.clock())
        session.add(row)
        session.flush()
        uow.commit()
        return _view(row)


def delete_scenario(ctx: Context, actor: Actor, scenario_id: int) -> None:
    """:raises NotAllowed: not an admin or manager. :raises NotFound: no such scenario."""
    _ensure_office(actor)
    with ctx.uow() as uow:
        if uow.session.execute(delete(ProcessScenario).where(ProcessScenario.id == scenario_id)).rowcount != 1:
            raise NotFound(f"no scenario {scenario_id}")
        uow.commit()


def rerun_scenarios(ctx: Context, actor: Actor, process_id: str, data: bytes, filename: str,
                    lane_roles: dict[str, str] | None = None) -> list[ScenarioOutcome]:
    """Run every saved scenario of the process against a draft (each its own dry run; nothing stored).

    :raises NotAllowed: not an admin or manager.
    """
    outcomes = []
    for scenario in list_scenarios(ctx, actor, process_id):
        result = dry_run(ctx, data, filename, scenario.steps, scenario.start_data, lane_roles=lane_roles)
        outcomes.append(ScenarioOutcome(scenario, result, result.summary == scenario.expected))
    return outcomes


def _where(summary: str) -> str:
    """'ends at 'Escalate' (escalate) after 3 steps' -> 'ends at 'Escalate''."""
    return re.sub(r" \([^()]*\) after \d+ steps?$| after \d+ steps?$", "", summary)


def regression_sentence(outcomes: list[ScenarioOutcome]) -> str:
    """"3 of 4 scenarios still end where they did; 'query then expire' now ends at 'Escalate' instead of
    'Auto-approve'"; "" without scenarios."""
    if not outcomes:
        return ""
    same = sum(1 for outcome in outcomes if outcome.same)
    noun = "scenario" if len(outcomes) == 1 else "scenarios"
    verb = "ends" if same == 1 and len(outcomes) == 1 else "end"
    head = f"{same} of {len(outcomes)} {noun} still {verb} where they did"
    changed = [_change(outcome) for outcome in outcomes if not outcome.same]
    return "; ".join([head, *changed])


def _change(outcome: ScenarioOutcome) -> str:
    now, before = _where(outcome.result.summary), _where(outcome.scenario.expected)
    if now.startswith("ends at ") and before.startswith("ends at "):
        before = before.removeprefix("ends at ")
    else:  # "now waits at 'X' instead of ending at 'Y'"
        verb, _, rest = before.partition(" ")
        before = f"{_GERUNDS.get(verb, verb)} {rest}"
    return f"{outcome.scenario.name!r} now {now} instead of {before}"
