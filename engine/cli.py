"""The `signoff` command line: a contract other tools script against (ids alone on the last line)."""

import argparse
import getpass
import json
import os
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from rich.progress import Progress
from sqlalchemy.exc import OperationalError

from engine.bench import run_bench
from engine.cli_instances import add_instance_commands, add_timer_commands, print_tasks
from engine.cli_process import add_process_parser, parse_lanes
from engine.cli_tasks import add_instance_actions, add_staff_commands, add_task_commands, add_timer_actions
from engine.config import Settings
from engine.demo import run_demo
from engine.errors import InvalidInput, SignoffError
from engine.services.context import Actor, Context, open_context
from engine.services.deployments import deploy_file
from engine.services.inbox import get_instance, list_open_tasks
from engine.services.instances import cancel_instance, complete_task, start_instance
from engine.services.outbox import get_mail, list_mail
from engine.services.staff_auth import create_staff_user
from engine.services.status import get_status
from engine.services.timers import count_due_instances, fire_all_due_timers
from engine.webserver import gunicorn_command, gunicorn_env

CLI_ACTOR = Actor("cli", is_system=True)


def _json_object(text: str | None, what: str) -> dict:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidInput(f"{what} is not valid JSON: {err.msg} at character {err.pos}") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be a JSON object, like '{{\"decision\": \"approve\"}}'")
    return value


def _aware(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--now {text!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"--now {text!r} needs a time zone, e.g. {text}Z or {text}+01:00")
    return moment


def cmd_deploy(ctx: Context, args) -> None:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InvalidInput(f"cannot read {path}: {err.strerror}") from None
    deployed = deploy_file(ctx, CLI_ACTOR, data, path.name, parse_lanes(args.lanes))
    for each in deployed:
        state = "deployed" if each.created else "already deployed (same file), unchanged"
        print(f"{each.process_id} version {each.version} {state}")
    print(" ".join(str(each.version) for each in deployed))


def cmd_start(ctx: Context, args) -> None:
    instance_id = start_instance(ctx, args.process_id, _json_object(args.data, "--data"), CLI_ACTOR)
    view = get_instance(ctx, instance_id)
    print(f"started {args.process_id} instance {instance_id}: {view['status']}")
    print(instance_id)


def cmd_tasks(ctx: Context, args) -> None:
    tasks = list_open_tasks(ctx, args.instance, cursor=args.cursor)
    if args.json:
        print(json.dumps(tasks, indent=2))
    else:
        print_tasks(tasks)
    if tasks.next_cursor:  # on stderr, so --json stays one JSON list
        print(f"more: signoff tasks --cursor {tasks.next_cursor}", file=sys.stderr)


def cmd_complete(ctx: Context, args) -> None:
    row = complete_task(ctx, args.task_id, _json_object(args.data, "--data"), CLI_ACTOR)
    view = get_instance(ctx, row.id)
    if view["status"] == "error":
        raise SignoffError(f"instance {row.id} stopped with an error at {view['error_element']}: {view['error']}")
    print(f"task {args.task_id} completed; instance {row.id} is {view['status']}")
    print_tasks(view["open_tasks"])


def cmd_cancel(ctx: Context, args) -> None:
    cancel_instance(ctx, args.instance_id, CLI_ACTOR, args.reason or "")
    print(f"instance {args.instance_id} cancelled")


def cmd_timers_fire(ctx: Context, args) -> None:
    """Fire everything due as of --now, batch after batch (each instance in its own transaction); a
    progress bar when stdout is a terminal."""
    now = _aware(args.now) if args.now else ctx.clock()
    if sys.stdout.isatty():
        with Progress(transient=True) as progress:
            bar = progress.add_task("firing due timers", total=count_due_instances(ctx, now))
            advanced = fire_all_due_timers(ctx, now, progress=lambda n: progress.advance(bar, n))
    else:
        advanced = fire_all_due_timers(ctx, now)
    shown = " ".join(map(str, advanced[:50])) + (f" … (+{len(advanced) - 50})" if len(advanced) > 50 else "")
    print(f"fired due timers of {len(advanced)} instance(s): {shown or '-'}")


def cmd_status(ctx: Context, args) -> None:
    """Database, deployed processes, each worker's last sweep and how it ended, due timers, outbox."""
    status = get_status(ctx)
    if args.json:
        print(json.dumps(status, indent=2))
        return
    print(f"database: {status['database']}")
    processes = ", ".join(f"{p['process_id']} v{p['version']}" for p in status["processes"])
    print(f"processes: {processes or 'none deployed (signoff deploy FILE)'}")
    if not status["workers"]:
        print("workers: no sweep recorded yet (is a background worker running?)")
    for worker in status["workers"]:
        outcome = f"failed: {worker['error']}" if worker["error"] else f"ok ({worker['result']})"
        print(f"worker {worker['name']}: last sweep {worker['last_sweep_at']} {outcome}")
    print(f"due timers waiting: {status['due_timers']} instance(s)")
    print(f"outbox: {status['outbox_pending']} pending, {status['outbox_failed']} failed")


def cmd_bench(_ctx: Context | None, args) -> None:
    figures = run_bench(args.quick, args.postgres_url, plot=Path(args.plot) if args.plot else None)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


def cmd_serve(_ctx: Context, args) -> None:
    """Replace this process with gunicorn serving the web app (the schema is migrated first, once)."""
    if args.workers < 1:
        raise InvalidInput(f"--workers must be at least 1, got {args.workers}")
    host, sep, port = args.bind.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise InvalidInput(f"--bind takes HOST:PORT, like 127.0.0.1:8000, got {args.bind!r}")
    command = gunicorn_command(args.bind, args.workers)
    os.execve(command[0], command, gunicorn_env())


def cmd_demo(_ctx: Context | None, args) -> None:
    """`signoff demo`: replace this process with the demo web server (webapp.demo; the engine never imports
    webapp). `signoff demo --walkthrough`: the scripted approval walkthrough in this terminal."""
    if args.walkthrough:
        # its live part shows a 5-second approval period expiring by itself: below the production floor
        run_demo(open_context(replace(Settings.from_env(), min_timer_seconds=1)))
        return
    os.execv(sys.executable, [sys.executable, "-m", "webapp.demo"])


def cmd_mail_list(ctx: Context, args) -> None:
    mails = list_mail(ctx)
    if args.json:
        print(json.dumps(mails, indent=2))
        return
    if not mails:
        print("no mail")
    for mail in mails:
        print(f"{mail['id']}\t{mail['status']}\t{mail['to'] or '-'}\t{mail['subject'] or mail['template']}")


def cmd_mail_show(ctx: Context, args) -> None:
    mail = get_mail(ctx, args.mail_id)
    print(f"To: {mail['to']}\nSubject: {mail['subject']}\nMessage-ID: {mail['message_id']}\n"
          f"Status: {mail['status']} (attempts {mail['attempts']}){' - ' + mail['error'] if mail['error'] else ''}\n")
    print(mail["text"] or "(not rendered yet: the background worker renders it when it delivers)")


def cmd_staff_add(ctx: Context, args) -> None:
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    user = create_staff_user(ctx, args.email, args.name, args.role, password, args.may_send_for_approval)
    print(f"staff user {user.email} ({user.role}) created")
    print(user.id)


def cmd_worker(_ctx: Context | None, args) -> None:
    """Replace this process with a Celery worker that runs beat too (small installs)."""
    command = [sys.executable, "-m", "celery", "-A", "tasks.celery_app", "worker", "--beat",
               "--loglevel", args.loglevel, "--concurrency", str(args.concurrency)]
    os.execv(sys.executable, command)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="signoff", description="BPMN approval engine")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("deploy", help="validate and store a BPMN file as a new process version")
    p.add_argument("file")
    p.add_argument("--lanes", help="lane to role mapping, e.g. Customer=customer,Accounts=manager")
    p.set_defaults(func=cmd_deploy)
    p = sub.add_parser("start", help="start the newest version of a process")
    p.add_argument("process_id")
    p.add_argument("--data", help="process variables as a JSON object")
    p.set_defaults(func=cmd_start)
    p = sub.add_parser("tasks", help="list open human tasks")
    p.add_argument("--instance", type=int)
    p.add_argument("--cursor", default="", help="the next page, as printed after a full page")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tasks)
    p = sub.add_parser("complete", help="complete a human task with form data")
    p.add_argument("task_id", type=int)
    p.add_argument("--data", help="form values as a JSON object (a task without a form: any variables)")
    p.set_defaults(func=cmd_complete)
    p = sub.add_parser("cancel", help="cancel a running instance: its tasks and timers are withdrawn")
    p.add_argument("instance_id", type=int)
    p.add_argument("--reason")
    p.set_defaults(func=cmd_cancel)
    p = sub.add_parser("timers", help="timer operations")
    timers = p.add_subparsers(dest="timers_command", required=True)
    f = timers.add_parser("fire", help="fire every timer due as of now")
    f.add_argument("--now", help="ISO 8601 date-time with a zone (default: the clock)")
    f.set_defaults(func=cmd_timers_fire)
    add_timer_commands(timers)  # list, catch-up (engine.cli_instances)
    add_timer_actions(timers)  # fire-now (engine.cli_tasks)
    p = sub.add_parser("status", help="database, processes, last sweep of each worker, due timers, outbox")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)
    instance = add_instance_commands(sub)  # instance list|show|migrate (engine.cli_instances)
    add_instance_actions(instance)  # retry, cancel, set (engine.cli_tasks)
    add_task_commands(sub)  # task claim, task reassign
    p = sub.add_parser("bench", help="the hot path and scale against the targets (a table; PostgreSQL too when "
                                     "SIGNOFF_DATABASE_URL names a server)")
    p.add_argument("--quick", action="store_true", help="smaller sizes, under 3 minutes")
    p.add_argument("--json", help="also write the figures to this file")
    p.add_argument("--plot", help="also draw step latency and sweep throughput to this PNG file")
    p.set_defaults(func=cmd_bench, needs_db=False)
    p = sub.add_parser("serve", help="serve the web app with gunicorn (production)")
    p.add_argument("--bind", default="127.0.0.1:8000", help="HOST:PORT to listen on (default 127.0.0.1:8000)")
    p.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("mail", help="the dev mailbox: mail the outbox holds")
    mail = p.add_subparsers(dest="mail_command", required=True)
    m = mail.add_parser("list", help="newest mail first")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_mail_list)
    m = mail.add_parser("show", help="one mail with its text body")
    m.add_argument("mail_id", type=int)
    m.set_defaults(func=cmd_mail_show)
    p = sub.add_parser("staff", help="staff accounts")
    staff = p.add_subparsers(dest="staff_command", required=True)
    a = staff.add_parser("add", help="create a staff account (the password is asked for, or read from stdin)")
    a.add_argument("email")
    a.add_argument("--name", required=True)
    a.add_argument("--role", required=True, choices=["admin", "manager", "employee"])
    a.add_argument("--may-send-for-approval", action="store_true")
    a.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    a.set_defaults(func=cmd_staff_add)
    add_staff_commands(staff)  # stand-in
    p = sub.add_parser("worker", help="start a Celery worker with beat embedded (needs SIGNOFF_BROKER_URL)")
    p.add_argument("--concurrency", type=int, default=2)
    p.add_argument("--loglevel", default="INFO")
    p.set_defaults(func=cmd_worker, needs_db=False)
    p = sub.add_parser("demo", help="serve the web app with a seeded demo company (what `make demo` runs)")
    p.add_argument("--walkthrough", action="store_true",
                   help="instead, run the shipped job approval end to end and print what happened")
    p.set_defaults(func=cmd_demo, needs_db=False)
    add_process_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if not getattr(args, "needs_db", True):
            args.postgres_url = _postgres_url()
            args.func(None, args)
            return 0
        ctx = open_context()
        args.func(ctx, args)
    except SignoffError as err:
        print(f"signoff: error: {err}", file=sys.stderr)
        return 1
    except OperationalError as err:
        print(f"signoff: error: cannot use the database: {err.orig}", file=sys.stderr)
        return 1
    except ValueError as err:  # a setting in the environment (engine.config names it)
        print(f"signoff: error: {err}", file=sys.stderr)
        return 1
    return 0


def _postgres_url() -> str | None:
    url = Settings.from_env().database_url
    return url if url.startswith("postgresql") else None


if __name__ == "__main__":
    sys.exit(main())
