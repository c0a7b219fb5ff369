"""`signoff task claim|reassign`, `signoff instance retry|cancel|set`, `signoff timers fire-now` and `signoff staff
stand-in`: operator actions (engine.services.operations) and out-of-office delegation from the command line,
with the same checks and history as the pages.

They act as the system (every case) unless `--as EMAIL` names a staff member, whose scope and role then apply.
Bad arguments are one line and exit 2; a refusal by the engine is one line and exit 1 (engine.cli.main).
"""

import argparse
import json
import re

from engine.errors import InvalidInput
from engine.services.context import Actor, Context
from engine.services.delegation import set_delegation
from engine.services.operations import (
    REASON_CHARS,
    cancel_case,
    check_variable_name,
    claim_task,
    fire_timer_now,
    parse_value,
    reassign_task,
    retry_instance,
    set_variable,
)
from engine.services.staff_lookup import get_staff_by_email

CLI_OPERATOR = Actor("cli", is_system=True)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _reason(text: str) -> str:
    text = text.strip()
    if not text:
        raise argparse.ArgumentTypeError("say why (it is kept in the case's history)")
    if len(text) > REASON_CHARS:
        raise argparse.ArgumentTypeError(f"at most {REASON_CHARS} characters, got {len(text)}")
    return text


def _email(text: str) -> str:
    if not _EMAIL.match(text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not an e-mail address")
    return text.strip()


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not an id (a whole number from 1)")
    return int(text)


def _checked(check, field: str):
    """An argparse type from an engine check (its InvalidInput message, without "field: ", is the error)."""
    def convert(text: str):
        try:
            check(text)
        except InvalidInput as err:
            raise argparse.ArgumentTypeError(str(err).removeprefix(f"{field}: ")) from None
        return text
    return convert


def _one_line(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Bad arguments: `signoff ...: error: what is wrong`, one line, exit 2 (no usage block)."""
    parser.error = lambda message: parser.exit(2, f"{parser.prog}: error: {message}\n")  # type: ignore[method-assign]
    return parser


def _actor(ctx: Context, email: str | None) -> Actor:
    return get_staff_by_email(ctx, email).actor if email else CLI_OPERATOR


def _done(args, view: dict, text: str) -> None:
    print(json.dumps(view, indent=2, default=str) if args.json else text)


def cmd_task_claim(ctx: Context, args) -> None:
    view = claim_task(ctx, _actor(ctx, args.as_email), args.task_id)
    _done(args, view, f"task {args.task_id} claimed by {args.as_email}")


def cmd_task_reassign(ctx: Context, args) -> None:
    target = get_staff_by_email(ctx, args.to)
    view = reassign_task(ctx, _actor(ctx, args.as_email), args.task_id, target.id, args.reason)
    _done(args, view, f"task {args.task_id} reassigned to {target.name} <{target.email}>")


def cmd_instance_retry(ctx: Context, args) -> None:
    view = retry_instance(ctx, _actor(ctx, args.as_email), args.instance_id, args.reason, args.newest_version)
    text = f"instance {args.instance_id} is {view['status']}"
    _done(args, view, text + (f": {view['error']} (at {view['error_element']})" if view["error"] else ""))


def cmd_instance_cancel(ctx: Context, args) -> None:
    view = cancel_case(ctx, _actor(ctx, args.as_email), args.instance_id, args.reason)
    _done(args, view, f"instance {args.instance_id} cancelled")


def cmd_instance_set(ctx: Context, args) -> None:
    view = set_variable(ctx, _actor(ctx, args.as_email), args.instance_id, args.name, args.value, args.reason)
    _done(args, view, f"instance {args.instance_id}: {args.name} = {json.dumps(view['new'])} "
                      f"(was {json.dumps(view['old'])})")


def cmd_timer_fire_now(ctx: Context, args) -> None:
    view = fire_timer_now(ctx, _actor(ctx, args.as_email), args.timer_id, args.reason)
    _done(args, view, f"timer {args.timer_id} ({view['element_id']}) fired; instance {view['instance_id']} "
                      f"is {view['status']}")


def cmd_staff_stand_in(ctx: Context, args) -> None:
    staff, stand_in = get_staff_by_email(ctx, args.email), get_staff_by_email(ctx, args.stand_in)
    view = set_delegation(ctx, CLI_OPERATOR, staff.id, stand_in.id, args.starts_on, args.ends_on)
    _done(args, view, f"{view['stand_in']} stands in for {view['staff']} from {view['starts_on']} "
                      f"to {view['ends_on']}")


def _common(parser: argparse.ArgumentParser, reason: bool = True) -> None:
    if reason:
        parser.add_argument("--reason", required=True, type=_reason, help="why (kept in the case's history)")
    parser.add_argument("--as", dest="as_email", type=_email, help="act as this staff member (default: the system)")
    parser.add_argument("--json", action="store_true")


def add_task_commands(subparsers) -> None:
    """`signoff task claim ID --as EMAIL` and `signoff task reassign ID --to EMAIL --reason TEXT`."""
    task = subparsers.add_parser("task", help="operator actions on a human task")
    commands = task.add_subparsers(dest="task_command", required=True)
    p = _one_line(commands.add_parser("claim", help="take an open task: it is offered to you only"))
    p.add_argument("task_id", type=_positive)
    p.add_argument("--as", dest="as_email", type=_email, required=True, help="the staff member who claims it")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_task_claim)
    p = _one_line(commands.add_parser("reassign", help="give an open task to a named staff member"))
    p.add_argument("task_id", type=_positive)
    p.add_argument("--to", type=_email, required=True, help="the staff member's e-mail address")
    _common(p)
    p.set_defaults(func=cmd_task_reassign)


def add_instance_actions(subparsers) -> None:
    """`signoff instance retry|cancel|set ...` (engine.cli_instances adds list/show/migrate the same way)."""
    p = _one_line(subparsers.add_parser("retry", help="run a case in error again from its last good state"))
    p.add_argument("instance_id", type=_positive)
    p.add_argument("--newest-version", action="store_true",
                   help="on the newest version of its process (when every element it is at exists there)")
    _common(p)
    p.set_defaults(func=cmd_instance_retry)
    p = _one_line(subparsers.add_parser("cancel", help="cancel a case with a reason"))
    p.add_argument("instance_id", type=_positive)
    _common(p)
    p.set_defaults(func=cmd_instance_cancel)
    p = _one_line(subparsers.add_parser("set", help="set one variable of a case to a JSON value"))
    p.add_argument("instance_id", type=_positive)
    p.add_argument("name", type=_checked(check_variable_name, "name"))
    p.add_argument("value", type=_checked(parse_value, "value"), help="a JSON value: 5, true, '\"text\"', '[1, 2]'")
    _common(p)
    p.set_defaults(func=cmd_instance_set)


def add_timer_actions(subparsers) -> None:
    """`signoff timers fire-now TIMER_ID --reason TEXT` (next to `timers fire` and `timers list`)."""
    p = _one_line(subparsers.add_parser("fire-now", help="fire one waiting timer now, with a reason"))
    p.add_argument("timer_id", type=_positive)
    _common(p)
    p.set_defaults(func=cmd_timer_fire_now)


def add_staff_commands(subparsers) -> None:
    """`signoff staff stand-in EMAIL --stand-in EMAIL --from DATE --to DATE` (out-of-office delegation)."""
    p = _one_line(subparsers.add_parser("stand-in", help="name a stand-in for a period (both days included)"))
    p.add_argument("email", type=_email, help="the staff member who is away")
    p.add_argument("--stand-in", dest="stand_in", type=_email, required=True, help="who stands in")
    p.add_argument("--from", dest="starts_on", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="ends_on", required=True, help="last day, YYYY-MM-DD")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_staff_stand_in)


__all__ = ["add_staff_commands", "add_instance_actions", "add_task_commands", "add_timer_actions"]
