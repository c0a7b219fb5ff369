"""Dry runs: a scenario (complete this task, let 3 days pass, …) run against a draft's own XML, nothing stored.

Each dry run gets a throwaway in-memory SQLite database with the schema from the models' metadata, a job case
seeded by the production services (a manager, a customer with portal access and a contact, a job with hours)
and a fake clock. The draft is stored there as a version and started by `approvals.start_job_case`, tasks are
completed by `instances.complete_task`, waits move the clock and fire due timers by `timers.fire_due_timers`,
and mails are rendered by the outbox's own delivery: the production code path, on a database that is thrown
away. It is bounded (MAX_STEPS steps, MAX_WAIT in total, MAX_TIMER_ROUNDS timer rounds per wait, the runtime's
step budget per transaction) and isolated: whatever goes wrong is that dry run's result, never an exception.
"""

import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta

from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

from engine.errors import InvalidInput, SignoffError
from engine.isotime import parse_duration
from engine.mail.transport import DevMailbox
from engine.models import (
    Base,
    EmailTemplate,
    HumanTask,
    HumanTaskStatus,
    InstanceEvent,
    InstanceStatus,
    Job,
    OutboxMessage,
    ProcessVersion,
    Registration,
    Timer,
    WorkflowInstance,
)
from engine.services import customers, jobs
from engine.services.approvals import start_job_case
from engine.services.context import Actor, Context
from engine.services.instances import complete_task
from engine.services.outbox import deliver_due_messages
from engine.services.staff_auth import create_staff_user
from engine.services.timers import fire_due_timers
from engine.workflow import specs
from engine.workflow.bpmn_xml import BpmnFileError
from engine.workflow.specs import ParsedProcess, parse_process

MAX_STEPS = 50
MAX_WAIT = timedelta(days=400)  # all waits of a scenario together
MAX_TIMER_ROUNDS = 200  # timer firings one wait may cause (a cycle of reminders, say)
DRY_RUN_ACTOR = Actor("dry run", is_system=True)
ACTIONS = ("complete", "wait")


@dataclass(frozen=True)
class Problem:
    """Stand-in for engine.workflow.bpmn_xml.Problem (the deploy-words branch) until it lands on main."""

    filename: str
    element_id: str | None
    element_name: str | None
    message: str

    def __str__(self) -> str:
        where = f" {self.element_id}" if self.element_id else ""
        return f"{self.filename}:{where}: {self.message}"


@dataclass(frozen=True)
class Step:
    action: str  # "complete" | "wait"
    task: str | None = None  # a user task's name or element id (complete)
    data: dict = field(default_factory=dict)  # form values (complete)
    duration: str | None = None  # ISO 8601 duration, e.g. "P3D" (wait)

    def as_dict(self) -> dict:
        """The step as JSON, without the fields its action does not use (what parse_steps reads back)."""
        if self.action == "wait":
            return {"action": "wait", "duration": self.duration}
        return {"action": "complete", "task": self.task, "data": dict(self.data)}


@dataclass(frozen=True)
class DryRunResult:
    problems: list  # the draft does not deploy: nothing ran (Problem)
    path: list[str]  # element ids in the order they completed
    open_tasks: list[str]  # names of the user tasks waiting at the end
    ended: bool
    end_element: str | None
    variables: dict
    emails: list[dict]  # {"template", "to", "subject", "error"}
    statuses: list[dict]  # {"what": "case"/"job"/"registration", "status"}
    error: str | None
    summary: str

    def as_dict(self) -> dict:
        """JSON for the CLI's --json and the pages (problems as {"filename", "element_id", ...})."""
        return {**asdict(self), "problems": [asdict(p) for p in self.problems]}


def parse_steps(raw: object) -> list[Step]:
    """Steps from JSON: [{"action": "complete", "task": "Customer review", "data": {...}}, {"action": "wait",
    "duration": "P3D"}].

    :raises InvalidInput: naming the bad step (1-based) and what is wrong with it.
    """
    if not isinstance(raw, list):
        raise InvalidInput('steps: a JSON list of steps, like [{"action": "wait", "duration": "P3D"}]')
    if len(raw) > MAX_STEPS:
        raise InvalidInput(f"steps: {len(raw)} steps; a dry run takes at most {MAX_STEPS}")
    steps = [_parse_step(number, item) for number, item in enumerate(raw, 1)]
    waited = sum((parse_duration(s.duration) for s in steps if s.duration), timedelta())
    if waited > MAX_WAIT:
        raise InvalidInput(f"steps: the waits add up to {waited.days} days; a dry run waits at most "
                           f"{MAX_WAIT.days} days in all")
    return steps


def _parse_step(number: int, item: object) -> Step:
    where = f"step {number}"
    if not isinstance(item, dict):
        raise InvalidInput(f"{where}: not a JSON object")
    action = item.get("action")
    if action not in ACTIONS:
        raise InvalidInput(f"{where}: action must be 'complete' or 'wait', not {action!r}")
    allowed = {"action", "task", "data"} if action == "complete" else {"action", "duration"}
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise InvalidInput(f"{where}: {action} takes no {', '.join(unknown)}")
    if action == "wait":
        duration = item.get("duration")
        try:
            length = parse_duration(duration)
        except (TypeError, ValueError) as err:
            raise InvalidInput(f"{where}: duration {duration!r} is not an ISO 8601 duration like P3D ({err})") \
                from None
        if length <= timedelta():
            raise InvalidInput(f"{where}: duration must be longer than nothing")
        return Step("wait", duration=duration)
    task, data = item.get("task"), item.get("data", {})
    if not isinstance(task, str) or not task.strip():
        raise InvalidInput(f"{where}: complete needs the task's name or id")
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: data must be a JSON object of form values")
    return Step("complete", task=task.strip(), data=data)


def dry_run(ctx: Context, data: bytes, filename: str, steps: list[Step], start_data: dict | None = None,
            lane_roles: dict[str, str] | None = None) -> DryRunResult:
    """Run `steps` against the draft in memory (see the module docstring); nothing is stored anywhere.

    Never raises for a bad draft or step: a draft that does not deploy gives its `problems`, a step that
    cannot be taken or an instance error gives `error`, both with what ran until then.
    """
    try:
        parsed = parse_process(data, filename, lane_roles, ctx.settings.min_timer_seconds)
        xml = data.decode("utf-8")
    except BpmnFileError as err:
        return _refused([Problem(err.filename, err.element_id, None, err.message)])
    except UnicodeDecodeError as err:
        return _refused([Problem(filename, None, None, f"not UTF-8 text ({err.reason} at byte {err.start})")])
    cached = parsed.bpmn_hash in specs._CACHE  # noqa: SLF001 - a draft's spec must not stay in the cache
    try:
        return _Sandbox(ctx).run(parsed, xml, filename, steps, start_data or {})
    except Exception as err:  # noqa: BLE001 - isolated: the dry run's failure is its own result
        return _empty(f"the dry run failed: {type(err).__name__}: {err}".split("\n")[0])
    finally:
        if not cached:
            specs._CACHE.pop(parsed.bpmn_hash, None)  # noqa: SLF001


def _refused(problems: list) -> DryRunResult:
    return DryRunResult(problems, [], [], False, None, {}, [], [], None,
                        f"does not deploy: {len(problems)} problem{'s' if len(problems) != 1 else ''}")


def _empty(error: str) -> DryRunResult:
    return DryRunResult([], [], [], False, None, {}, [], [], error, error)


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class _Sandbox:
    """One dry run's throwaway database, clock and seeded job case."""

    def __init__(self, real: Context) -> None:
        self.real = real
        db = create_engine("sqlite://", poolclass=StaticPool,
                           connect_args={"check_same_thread": False, "isolation_level": None})
        event.listen(db, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        Base.metadata.create_all(db)
        self.clock = _Clock(real.clock())
        self.ctx = Context(real.settings, db, sessionmaker(db, expire_on_commit=False), self.clock)
        self.watch: _Statuses | None = None

    def run(self, parsed: ParsedProcess, xml: str, filename: str, steps: list[Step],
            start_data: dict) -> DryRunResult:
        try:
            instance_id, job_id = self._start(parsed, xml, filename, start_data)
            watch = self.watch = _Statuses(self.ctx, instance_id, job_id)
            error, taken = self._error_of(instance_id), 0
            for number, step in enumerate(steps, 1):
                if error is not None:
                    break
                error = self._take(instance_id, number, step)
                if error is None:  # taken; what it ran may have put the instance in error
                    taken += 1
                    error = self._error_of(instance_id)
                watch.look()
            return self._result(parsed, instance_id, watch, error, taken)
        finally:
            self.ctx.db.dispose()

    def _start(self, parsed: ParsedProcess, xml: str, filename: str, start_data: dict) -> tuple[int, int]:
        box = self.ctx
        manager = create_staff_user(box, "manager@dry-run.example", "Morgan Manager", "manager",
                                    secrets.token_urlsafe(16))
        customer = customers.create_customer(box, staff=manager, name="Example Customer", contact_name="Dana Example",
                                             contact_email="dana@customer.example")
        customers.set_portal_access(box, customer["id"], True, staff=manager)
        job = jobs.create_job(box, customer["id"], staff=manager, name="Window cleaning", manager_id=manager.id,
                              requires_customer_approval=True)
        now = self.clock()
        with self.real.read() as work:  # the company's edited mail templates, so subjects read as they will
            overrides = [(t.name, t.source, t.updated_by, t.updated_at) for t in work.session.scalars(
                select(EmailTemplate))]
        with box.uow() as uow:
            session = uow.session
            for name, source, by, at in overrides:
                session.add(EmailTemplate(name=name, source=source, updated_by=by, updated_at=at))
            session.add(Registration(job_id=job["id"], employee_id=manager.id, kind="hours", work_date=now.date(),
                                     start_time=time(9), minutes=120, description="Windows", created_at=now,
                                     updated_at=now))
            session.add(ProcessVersion(process_id=parsed.process_id, version=1, bpmn_hash=parsed.bpmn_hash,
                                       filename=filename, xml=xml, lane_roles=parsed.lane_roles, deployed_at=now))
            session.flush()
            instance_id = start_job_case(box, session, manager, session.get(Job, job["id"]), parsed.process_id,
                                         start_data)
            uow.commit()
        return instance_id, job["id"]

    def _take(self, instance_id: int, number: int, step: Step) -> str | None:
        """Take one step; the reason it cannot be taken, in words, or None."""
        where = f"step {number}"
        status = self._instance(instance_id).status
        if status != InstanceStatus.RUNNING:
            return f"{where}: the process has already {'ended' if status == InstanceStatus.COMPLETED else status}"
        if step.action == "wait":
            return self._wait(instance_id, where, parse_duration(step.duration))
        open_tasks = self._open(instance_id)
        wanted = step.task.casefold()
        match = [t for t in open_tasks if step.task in (t.name, t.element_id)] or \
            [t for t in open_tasks if wanted in (t.name.casefold(), t.element_id.casefold())]
        if not match:
            waiting = ", ".join(f"'{t.name}' ({t.element_id})" for t in open_tasks) or "no task"
            return f"{where}: no open task {step.task!r}; open is {waiting}"
        try:
            complete_task(self.ctx, match[0].id, step.data, DRY_RUN_ACTOR)
        except SignoffError as err:
            return f"{where}: {match[0].name}: {err}"
        return None

    def _wait(self, instance_id: int, where: str, length: timedelta) -> str | None:
        target = self.clock() + length
        for _ in range(MAX_TIMER_ROUNDS):
            with self.ctx.read() as work:
                due = work.session.scalar(select(func.min(Timer.due_at)).where(
                    Timer.instance_id == instance_id, Timer.due_at <= target))
            if due is None or self._instance(instance_id).status != InstanceStatus.RUNNING:
                self.clock.now = target
                return None
            self.clock.now = max(self.clock.now, due)
            fire_due_timers(self.ctx, due)
            self.watch.look()  # a reminder's status, even if the period's end follows in the same wait
        return f"{where}: timers kept firing ({MAX_TIMER_ROUNDS} times in one wait); the dry run stopped"

    def _instance(self, instance_id: int) -> WorkflowInstance:
        with self.ctx.read() as work:
            return work.session.get(WorkflowInstance, instance_id)

    def _open(self, instance_id: int) -> list[HumanTask]:
        with self.ctx.read() as work:
            return list(work.session.scalars(select(HumanTask).where(
                HumanTask.instance_id == instance_id, HumanTask.status == HumanTaskStatus.OPEN)
                .order_by(HumanTask.id)))

    def _error_of(self, instance_id: int) -> str | None:
        row = self._instance(instance_id)
        if row.status != InstanceStatus.ERROR:
            return None
        return f"{row.error_element}: {row.error_message}" if row.error_element else row.error_message

    def _result(self, parsed: ParsedProcess, instance_id: int, watch: "_Statuses", error: str | None,
                taken: int) -> DryRunResult:
        deliver_due_messages(self.ctx, DevMailbox(), limit=500)
        with self.ctx.read() as work:
            session = work.session
            row = session.get(WorkflowInstance, instance_id)
            path = list(session.scalars(select(InstanceEvent.element_id).where(
                InstanceEvent.instance_id == instance_id, InstanceEvent.kind == "element_completed")
                .order_by(InstanceEvent.id)))
            mails = [{"template": m.template, "to": m.recipient, "subject": m.subject, "error": m.last_error}
                     for m in session.scalars(select(OutboxMessage).where(OutboxMessage.instance_id == instance_id)
                                              .order_by(OutboxMessage.id))]
        open_tasks = [t.name for t in self._open(instance_id)]
        ended = row.status == InstanceStatus.COMPLETED
        ends = {s.bpmn_id: s.bpmn_name or s.bpmn_id for s in parsed.spec.task_specs.values()
                if isinstance(s, EndEvent) and s.bpmn_id}
        end_element = next((e for e in reversed(path) if e in ends), None) if ended else None
        summary = _summary(ended, end_element and ends[end_element], end_element, open_tasks, error, taken)
        return DryRunResult([], path, open_tasks, ended, end_element, dict(row.data or {}), mails, watch.seen,
                            error, summary)


def _steps(n: int) -> str:
    return f"{n} step{'s' if n != 1 else ''}"


def _summary(ended: bool, end_name: str | None, end_element: str | None, open_tasks: list[str],
             error: str | None, taken: int) -> str:
    """One line; the same run gives the same words (no dates), so saved scenarios can be compared."""
    if error is not None:
        return f"stops after {_steps(taken)}: {error}"
    if ended:
        return f"ends at {end_name!r} ({end_element}) after {_steps(taken)}" if end_element \
            else f"ends after {_steps(taken)}"
    if open_tasks:
        return f"waits at {', '.join(repr(name) for name in open_tasks)} after {_steps(taken)}"
    return f"waits on a timer or message after {_steps(taken)}"


class _Statuses:
    """The case, job and registration statuses as they change, step by step."""

    def __init__(self, box: Context, instance_id: int, job_id: int) -> None:
        self.box, self.instance_id, self.job_id = box, instance_id, job_id
        self.last: dict[str, str | None] = {"case": None, "job": "draft", "registration": "draft"}
        self.seen: list[dict] = []
        self.look()

    def look(self) -> None:
        with self.box.read() as work:
            session = work.session
            now = {"case": session.scalar(select(WorkflowInstance.case_status).where(
                       WorkflowInstance.id == self.instance_id)),
                   "job": session.scalar(select(Job.approval_status).where(Job.id == self.job_id)),
                   "registration": session.scalar(select(Registration.status).where(
                       Registration.job_id == self.job_id).order_by(Registration.id).limit(1))}
        for what, status in now.items():
            if status is not None and status != self.last[what]:
                self.seen.append({"what": what, "status": str(status)})
            self.last[what] = status
