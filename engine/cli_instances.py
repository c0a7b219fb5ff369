"""`signoff instance list|show|migrate`, `signoff timers list|catch-up`: watching cases and moving them, from a shell.

The commands call the same services as the pages (engine.services.case_list, case_story, case_migration,
upcoming_timers) as the system actor, so the same checks and events apply. `--json` prints one JSON document on
stdout (page links go to stderr). Arguments are read as text and checked here: a bad one is one line on stderr
and exit status 2; what the services refuse for other reasons is exit status 1 (engine.cli.main).
"""

import argparse
import json
import sys

from engine.errors import InvalidInput
from engine.services.case_list import FILTERS, list_cases
from engine.services.case_migration import migrate_cases, preview_migration
from engine.services.case_story import get_case_story
from engine.services.context import Actor, Context
from engine.services.inbox import get_instance
from engine.services.upcoming_timers import list_upcoming_timers, set_catch_up

CLI_ACTOR = Actor("cli", is_system=True)
BAD_ARGUMENTS = 2


def _refuse(message: str) -> None:
    """A bad argument: one line, exit status 2 (as argparse's own errors)."""
    print(f"signoff: error: {message}", file=sys.stderr)
    raise SystemExit(BAD_ARGUMENTS)


def _id(name: str, text: str) -> int:
    if not text.isdigit() or len(text) > 12:
        _refuse(f"{name}: {text!r} is not a number")
    return int(text)


def _print_json(value) -> None:
    print(json.dumps(value, indent=2, default=str))


def _print_page(args, list_page, empty: str, line_of, command: str) -> None:
    """One page of a list: JSON or a line per row, the next page's command on stderr."""
    try:
        page = list_page()
    except InvalidInput as err:
        _refuse(str(err))
    if args.json:
        _print_json(list(page))
    else:
        for row in page:
            print(line_of(row))
        if not page:
            print(empty)
    if page.next_cursor:  # on stderr, so --json stays one JSON list
        print(f"more: signoff {command} --cursor {page.next_cursor}", file=sys.stderr)


def _case_line(case: dict) -> str:
    where = case["waiting_at"] or case["error_element"] or "-"
    return (f"{case['id']}\t{case['process_id']} v{case['version']}\t{case['status']}\t"
            f"{case['case_status'] or '-'}\t{case['customer_name'] or '-'}\t{case['created_at']}\t{where}")


def cmd_instance_list(ctx: Context, args) -> None:
    filters = {name: getattr(args, name) for name in FILTERS if getattr(args, name) not in (None, False)}
    filters = {name: "yes" if value is True else value for name, value in filters.items()}
    _print_page(args, lambda: list_cases(ctx, CLI_ACTOR, filters, args.cursor), "no cases", _case_line,
                "instance list")


def print_tasks(tasks: list[dict]) -> None:
    """Open tasks, one a line, with their form fields (* required, =options, :type)."""
    if not tasks:
        print("no open tasks")
    for task in tasks:
        fields = ", ".join(f["id"] + ("*" if f.get("required") else "") + (
            "=" + "|".join(o["id"] for o in f["options"]) if f["options"] else f":{f['type']}")
            for f in task["form"])
        due = f" due {task['due_at']}" if task["due_at"] else ""
        print(f"{task['id']}\tinstance {task['instance_id']}\t{task['element_id']}\t{task['name']!r}\t"
              f"lane {task['lane']}{due}\t[{fields}]")


def _print_view(view: dict) -> None:
    print(f"instance {view['id']}: {view['process_id']} v{view['version']} {view['status']}"
          + (f" ({view['case_status']})" if view["case_status"] else ""))
    if view["error"]:
        print(f"error at {view['error_element']}: {view['error']}")
    print("data: " + json.dumps(view["data"], default=str))
    print("open tasks:")
    print_tasks(view["open_tasks"])
    for timer in view["timers"]:
        print(f"timer {timer['id']} {timer['element_id']} due {timer['due_at']}")
    print("history: " + " ".join(e["element_id"] for e in view["history"] if e["kind"] == "element_completed"))


def cmd_instance_show(ctx: Context, args) -> None:
    """The instance as `signoff instance ID` showed it, then its story in words (under "story" in --json)."""
    instance_id = _id("ID", args.instance_id)
    view = get_instance(ctx, instance_id, CLI_ACTOR)
    story = get_case_story(ctx, instance_id, CLI_ACTOR)
    if args.json:
        _print_json({**view, "story": story})
        return
    _print_view(view)
    print("story:")
    for line in story["timeline"]:
        if line["level"] == "main" or args.details:
            print(f"  {line['line']}")
    for task in story["open_tasks"]:
        print(f"  open: {task['name']}, may be done by {', '.join(task['may_complete']) or 'nobody yet'}")


def _filter_pairs(pairs: list[str]) -> dict[str, str]:
    filters = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            _refuse(f"--filter takes NAME=VALUE (filters: {', '.join(FILTERS)}), got {pair!r}")
        filters[name.strip()] = value
    return filters


def cmd_instance_migrate(ctx: Context, args) -> None:
    """With --dry-run the preview, else the move; each in sentences, then (a move) the ids moved on the last line."""
    source, target = _id("--from", args.from_version), _id("--to", args.to_version)
    filters = _filter_pairs(args.filter or [])
    try:
        if args.dry_run:
            outcome = preview_migration(ctx, CLI_ACTOR, args.process_id, source, target, filters)
        else:
            outcome = migrate_cases(ctx, CLI_ACTOR, args.process_id, source, target, filters, args.reason or "")
    except InvalidInput as err:
        _refuse(str(err))
    if args.json:
        _print_json(outcome)
        return
    for sentence in outcome["summary"]:
        print(sentence)
    if args.dry_run:
        print("dry run: nothing moved")
        return
    for instance_id, why in outcome["refused"].items():
        print(f"instance {instance_id} stays on version {source}: {why}")
    print(f"moved {len(outcome['moved'])} case(s) to version {target}")
    print(" ".join(map(str, outcome["moved"])) or "-")


def _timer_line(timer: dict) -> str:
    late = " (missed)" if timer["missed"] else ""
    return (f"{timer['due_at']}{late}\tinstance {timer['instance_id']}\t{timer['element_name']}\t"
            f"{timer['kind']}\tcatch-up {timer['catch_up']}\t{timer['customer_name'] or '-'}")


def cmd_timers_list(ctx: Context, args) -> None:
    _print_page(args, lambda: list_upcoming_timers(ctx, CLI_ACTOR, args.process or "", args.cursor),
                "no timers waiting", _timer_line, "timers list")


def cmd_timers_catch_up(ctx: Context, args) -> None:
    instance_id = _id("ID", args.instance_id)
    try:
        set_catch_up(ctx, CLI_ACTOR, instance_id, args.element_id, args.choice)
    except InvalidInput as err:
        _refuse(str(err))
    outcome = "sent once, late" if args.choice == "replay" else "skipped"
    print(f"instance {instance_id}: a missed {args.element_id} will be {outcome}")


def add_instance_commands(subparsers) -> argparse._SubParsersAction:
    """Register `instance list|show|migrate` on the top-level subparsers; returns the `instance` subcommands
    (engine.cli_tasks adds the operator's retry, cancel and set there)."""
    p = subparsers.add_parser("instance", help="watch and migrate cases (process instances)")
    instance = p.add_subparsers(dest="instance_command", required=True)
    listing = instance.add_parser("list", help="cases in a filter, newest first (a page at a time)")
    for name in FILTERS:
        flag = "--" + name.replace("_", "-")
        if name in ("overdue", "in_error"):
            listing.add_argument(flag, dest=name, action="store_true")
        else:
            listing.add_argument(flag, dest=name, help="dates as 2026-12-01" if "started" in name else None)
    listing.add_argument("--cursor", default="", help="the next page, as printed after a full page")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_instance_list)
    show = instance.add_parser("show", help="one case: status, data, open tasks, timers, history and its story")
    show.add_argument("instance_id", metavar="ID")
    show.add_argument("--details", action="store_true", help="also the engine's own steps in the story")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_instance_show)
    move = instance.add_parser("migrate", help="move running cases of one version to another (preview first)")
    move.add_argument("process_id", metavar="PROCESS")
    move.add_argument("--from", dest="from_version", required=True, metavar="N")
    move.add_argument("--to", dest="to_version", required=True, metavar="M")
    move.add_argument("--filter", action="append", metavar="NAME=VALUE", help="a case-list filter; repeatable")
    move.add_argument("--reason", help="why (recorded in each case's history); required unless --dry-run")
    move.add_argument("--dry-run", action="store_true", help="only print the preview")
    move.add_argument("--json", action="store_true")
    move.set_defaults(func=cmd_instance_migrate)
    return instance


def add_timer_commands(timers: argparse._SubParsersAction) -> None:
    """Register `timers list` and `timers catch-up` next to `timers fire`."""
    p = timers.add_parser("list", help="what fires when across cases, soonest first")
    p.add_argument("--process", help="only timers of this process")
    p.add_argument("--cursor", default="", help="the next page, as printed after a full page")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_timers_list)
    p = timers.add_parser("catch-up", help="what a case's reminder does when it was missed: replay (once) or skip")
    p.add_argument("instance_id", metavar="ID")
    p.add_argument("element_id", metavar="ELEMENT", help="the reminder's element id, as timers list --json shows")
    p.add_argument("choice", help="replay or skip")
    p.set_defaults(func=cmd_timers_catch_up)
