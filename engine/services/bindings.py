"""Which process runs which approval: per case type a company default, overridable per customer.

The staff side starts the bound process (engine.services.approvals) and reads cases by
`workflow_instance.case_type`, never by a process id. A process is bound only if it gives the staff side what
it relies on (`check_binding`): a Customer-lane user task, case statuses the screens know, and no start
variable beyond those the approvals service sends (bpmn/README.md, "Process variables given at start").
Migration 0018 seeds the company defaults (DEFAULT_PROCESSES); without a row, those defaults apply.
"""

import ast
from dataclasses import dataclass
from datetime import UTC, datetime

from SpiffWorkflow.bpmn.specs.defaults import ScriptTask, UserTask
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotAllowed, NotFound
from engine.models import Customer, ProcessBinding, ProcessVersion, StaffRole
from engine.service_tasks.handlers import CASE_STATUSES
from engine.services.context import Actor, Context
from engine.services.staff_scope import actor_sees
from engine.workflow.parser import ServiceTask
from engine.workflow.runtime import process_for
from engine.workflow.script_builtins import SCRIPT_BUILTINS
from engine.workflow.script_functions import make_script_functions
from engine.workflow.specs import ParsedProcess

CASE_TYPES: dict[str, str] = {"job": "Job approval", "timesheet": "Timesheet approval"}
DEFAULT_PROCESSES: dict[str, str] = {"job": "job_approval", "timesheet": "timesheet_approval"}
_COMMON_START = frozenset({"customer_id", "manager_id", "title", "customer_emails", "manager_email",
                           "hours_total", "expenses_total", "mileage_total", "customer_mails",
                           "approval_period", "reminder_interval", "period_end_action", "minimum_resume_period"})
# what engine.services.approvals sends at start, per case type (tests/engine/test_bindings.py holds them equal)
START_VARIABLES: dict[str, frozenset[str]] = {
    "job": _COMMON_START | {"job_id"},
    "timesheet": _COMMON_START | {"registration_ids", "period_start", "period_end"},
}
_SCRIPT_NAMES = frozenset(SCRIPT_BUILTINS) | frozenset(make_script_functions(lambda: datetime.now(UTC)))


@dataclass(frozen=True)
class Bindings:
    company: dict[str, str]  # case type -> process id
    per_customer: dict[int, dict[str, str]]  # customer id -> {case type: process id} (overrides only)


def _ensure_office(actor: Actor) -> None:
    if not actor.is_system and actor.staff_role not in (StaffRole.ADMIN, StaffRole.MANAGER):
        raise NotAllowed("only admins and managers may choose which process runs an approval")


def _check_case_type(case_type: str) -> None:
    if case_type not in CASE_TYPES:
        raise InvalidInput(f"case type: {case_type!r} is not one of {', '.join(CASE_TYPES)}")


def company_bindings(session: Session) -> dict[str, str]:
    """Case type -> the company's process (the shipped default where no row says otherwise)."""
    rows = session.execute(select(ProcessBinding.case_type, ProcessBinding.process_id)
                           .where(ProcessBinding.customer_id.is_(None))).all()
    return {**DEFAULT_PROCESSES, **{case_type: process_id for case_type, process_id in rows}}


def bound_process(session: Session, case_type: str, customer_id: int | None) -> str:
    """The process a new case of `case_type` for the customer starts: its own binding, else the company's."""
    if customer_id is not None:
        own = session.scalar(select(ProcessBinding.process_id).where(
            ProcessBinding.case_type == case_type, ProcessBinding.customer_id == customer_id))
        if own is not None:
            return own
    return company_bindings(session)[case_type]


def list_bindings(ctx: Context, actor: Actor) -> Bindings:
    """The company's bindings and the per-customer overrides of the customers in the actor's scope.

    :raises NotAllowed: the actor is not an admin or a manager.
    """
    _ensure_office(actor)
    with ctx.read() as work:
        session = work.session
        per_customer: dict[int, dict[str, str]] = {}
        for customer_id, case_type, process_id in session.execute(
                select(ProcessBinding.customer_id, ProcessBinding.case_type, ProcessBinding.process_id)
                .where(ProcessBinding.customer_id.is_not(None), actor_sees(actor, ProcessBinding.customer_id))
                .order_by(ProcessBinding.customer_id, ProcessBinding.case_type)):
            per_customer.setdefault(customer_id, {})[case_type] = process_id
        return Bindings(company_bindings(session), per_customer)


def bind_process(ctx: Context, actor: Actor, case_type: str, process_id: str | None,
                 customer_id: int | None = None) -> None:
    """Bind `process_id` to the case type, company-wide (admins) or for one customer (its managers);
    process_id None with a customer: back to the company default. Running cases keep their process.

    :raises InvalidInput: unknown case type or process, or the binding check fails (the message names what is
        missing). :raises NotAllowed: not an admin or manager (company-wide: not an admin).
    :raises NotFound: the customer is unknown or outside the actor's scope.
    """
    set_bindings(ctx, actor, {case_type: process_id}, customer_id)


def set_bindings(ctx: Context, actor: Actor, chosen: dict[str, str | None], customer_id: int | None = None) -> None:
    """Several case types at once (the settings and policy pages' form), in one transaction: all or none.

    :raises: as bind_process; an InvalidInput names each refused case type ("job: …; timesheet: …").
    """
    _ensure_office(actor)
    for case_type in chosen:
        _check_case_type(case_type)
    if customer_id is None and not actor.is_system and actor.staff_role != StaffRole.ADMIN:
        raise NotAllowed("only admins may choose the company-wide process")
    with ctx.uow() as uow:
        session = uow.session
        if customer_id is not None and session.scalar(select(Customer.id).where(
                Customer.id == customer_id, actor_sees(actor, Customer.id))) is None:
            raise NotFound(f"no customer {customer_id}")
        refused = [f"{case_type}: {_refusal(session, case_type, process_id, customer_id)}"
                   for case_type, process_id in chosen.items()
                   if _refusal(session, case_type, process_id, customer_id)]
        if refused:
            raise InvalidInput("; ".join(refused))
        for case_type, process_id in chosen.items():
            _bind(ctx, session, actor, case_type, process_id, customer_id)
        uow.commit()


def _refusal(session: Session, case_type: str, process_id: str | None, customer_id: int | None) -> str:
    if process_id is None:
        return "the company-wide binding needs a process" if customer_id is None else ""
    problems = _check(session, case_type, process_id)
    return f"{process_id} cannot run {CASE_TYPES[case_type].lower()}s: " + "; ".join(problems) if problems else ""


def _bind(ctx: Context, session: Session, actor: Actor, case_type: str, process_id: str | None,
          customer_id: int | None) -> None:
    match = ProcessBinding.customer_id.is_(None) if customer_id is None else ProcessBinding.customer_id == customer_id
    session.execute(delete(ProcessBinding).where(ProcessBinding.case_type == case_type, match))
    if process_id is not None:
        session.add(ProcessBinding(case_type=case_type, customer_id=customer_id, process_id=process_id,
                                   bound_by=actor.name, bound_at=ctx.clock()))


def check_binding(ctx: Context, case_type: str, process_id: str) -> list[str]:
    """What the latest version of `process_id` lacks to run cases of `case_type` ([] = fine).

    :raises InvalidInput: unknown case type.
    """
    _check_case_type(case_type)
    with ctx.read() as work:
        return _check(work.session, case_type, process_id)


def bindable_processes(ctx: Context, case_type: str) -> list[str]:
    """The deployed processes that pass check_binding for the case type, by id.

    :raises InvalidInput: unknown case type.
    """
    _check_case_type(case_type)
    with ctx.read() as work:
        ids = work.session.scalars(select(ProcessVersion.process_id).distinct().order_by(ProcessVersion.process_id))
        return [process_id for process_id in ids if not _check(work.session, case_type, process_id)]


def _latest(session: Session, process_id: str) -> ParsedProcess | None:
    newest = select(func.max(ProcessVersion.version)).where(ProcessVersion.process_id == process_id)
    version = session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == process_id,
                                                          ProcessVersion.version == newest.scalar_subquery()))
    if version is None:
        return None
    return process_for(session, version.id, version.bpmn_hash)


def _check(session: Session, case_type: str, process_id: str) -> list[str]:
    process = _latest(session, process_id)
    if process is None:
        return [f"no process {process_id!r} is deployed"]
    return spec_problems(process, case_type)


def spec_problems(process: ParsedProcess, case_type: str) -> list[str]:
    """The binding check on a parsed process (also used on drafts): what the staff side relies on."""
    task_specs = [t for spec in (process.spec, *process.subprocess_specs.values()) for t in spec.task_specs.values()
                  if getattr(t, "bpmn_id", None) is not None]
    problems = []
    if not any(isinstance(t, UserTask) and process.lane_roles.get(t.lane or "") == "customer" for t in task_specs):
        problems.append("it has no user task in a Customer lane (the contact's review)")
    problems += _status_problems(task_specs)
    unknown = sorted(_read_names(task_specs) - START_VARIABLES[case_type])
    if unknown:
        problems.append("it reads " + ", ".join(unknown) + ", which the staff side does not send at start "
                        f"(it sends {', '.join(sorted(START_VARIABLES[case_type]))}); set them in the process first")
    return problems


def _status_problems(task_specs: list) -> list[str]:
    problems = []
    for task_spec in task_specs:
        if not isinstance(task_spec, ServiceTask) or task_spec.operation_name != "case.set_status":
            continue
        kind, text = task_spec.operation_params.get("status", ("literal", ""))
        status = text if kind == "literal" else _literal(text)
        if status not in CASE_STATUSES:
            shown = repr(status) if isinstance(status, str) else f"from the expression {text!r}"
            problems.append(f"{task_spec.bpmn_id} sets the case status {shown}, which the screens do not know "
                            f"(known: {', '.join(sorted(CASE_STATUSES))})")
    return problems


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def _read_names(task_specs: list) -> set[str]:
    """Variables the model reads but never sets itself (scripts, form fields): those must come at start."""
    sources: list[str] = []
    set_here: set[str] = set()
    for task_spec in task_specs:
        if isinstance(task_spec, ScriptTask):
            sources.append(task_spec.script)
        if isinstance(task_spec, UserTask):
            set_here |= {f["id"] for f in task_spec.extensions.get("form", [])}
        if isinstance(task_spec, ServiceTask):
            sources += [text for kind, text in task_spec.operation_params.values() if kind == "expression"]
        definition = getattr(task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            sources.append(definition.expression)
        sources += [c.args[0] for c, _ in getattr(task_spec, "cond_task_specs", []) if c is not None]
    read: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue  # deployment refuses these; the check has nothing to add
        updates = _updates(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Load):
                    read.add(node.id)
                elif id(node) not in updates:
                    set_here.add(node.id)
            elif isinstance(node, ast.arg):
                set_here.add(node.arg)
    return read - set_here - _SCRIPT_NAMES


def _updates(tree: ast.AST) -> set[int]:
    """The target nodes of assignments that read their own variable (`n = n + 1`, `n += 1`): those need the
    variable to exist already, so they do not count as setting it."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            found.add(id(node.target))
        elif isinstance(node, ast.Assign):
            reads = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
            found |= {id(t) for t in node.targets if isinstance(t, ast.Name) and t.id in reads}
    return found
