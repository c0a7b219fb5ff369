"""`signoff process list|show|deploy|dry-run|bind|scenarios`: processes from the command line, `--json` to script.

JSON keys (stable): list -> [{"process_id", "name", "latest", "versions": [{"version", "filename", "bpmn_hash",
"deployed_at", "deployed_by", "running", "completed", "in_error"}]}]; show -> {"process_id", the version's keys,
"xml"}; deploy -> [{"process_id", "version", "created"}] (one per executable process of the file);
dry-run -> DryRunResult.as_dict() (problems, path, open_tasks,
ended, end_element, variables, emails, statuses, error, summary); bind -> {"case_type", "process_id",
"customer_id"}; scenarios -> [{"id", "name", "steps", "expected"}].
Bad arguments print one line and exit with 2, changing nothing.
"""

import json
import sys
from pathlib import Path

from engine.errors import InvalidInput, SignoffError
from engine.services.bindings import bind_process
from engine.services.context import Actor, Context
from engine.services.deployments import deploy_file
from engine.services.dry_runs import dry_run, parse_steps
from engine.services.process_catalog import get_version, list_processes
from engine.services.scenarios import list_scenarios

CLI_ACTOR = Actor("cli", is_system=True)


class _Usage(SignoffError):
    """A bad argument: exit code 2."""


def _read(path_text: str, what: str) -> bytes:
    try:
        return Path(path_text).read_bytes()
    except OSError as err:
        raise _Usage(f"{what}: cannot read {path_text}: {err.strerror}") from None


def _json(text: str, what: str) -> object:
    if text.startswith("@"):
        text = _read(text[1:], what).decode("utf-8", "replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise _Usage(f"{what} is not valid JSON: {err.msg} at character {err.pos}") from None


def parse_lanes(text: str | None) -> dict[str, str]:
    """`--lanes Customer=customer,Accounts=manager` as a mapping (also for `signoff deploy`).

    :raises InvalidInput: a pair that is not LANE=ROLE."""
    mapping = {}
    for pair in (text or "").split(","):
        if not pair.strip():
            continue
        lane, sep, role = pair.partition("=")
        if not sep or not lane.strip() or not role.strip():
            raise InvalidInput(f"--lanes takes LANE=ROLE pairs separated by commas, got {pair!r}")
        mapping[lane.strip()] = role.strip()
    return mapping


def _out(args, value: object, text: str) -> None:
    print(json.dumps(value, indent=2, default=str) if args.json else text)


def _version_json(v) -> dict:
    return {"version": v.version, "filename": v.filename, "bpmn_hash": v.bpmn_hash,
            "deployed_at": v.deployed_at.isoformat(), "deployed_by": v.deployed_by,
            "running": v.running, "completed": v.completed, "in_error": v.in_error}


def cmd_list(ctx: Context, args) -> None:
    processes = list_processes(ctx, CLI_ACTOR)
    value = [{"process_id": p.process_id, "name": p.name, "latest": p.latest,
              "versions": [_version_json(v) for v in p.versions]} for p in processes]
    lines = [f"{p.process_id}  latest version {p.latest} ({len(p.versions)} versions)"
             f"{'  ' + p.name if p.name != p.process_id else ''}" for p in processes]
    _out(args, value, "\n".join(lines) or "no process is deployed")


def cmd_show(ctx: Context, args) -> None:
    v, xml = get_version(ctx, CLI_ACTOR, args.process_id, args.version)
    value = {"process_id": v.process_id, **_version_json(v), "xml": xml}
    by = f" by {v.deployed_by}" if v.deployed_by else ""
    _out(args, value, f"{v.process_id} version {v.version}: {v.filename}, deployed {v.deployed_at:%Y-%m-%d %H:%M}"
                      f" UTC{by}, sha256 {v.bpmn_hash[:12]}; {v.running} running, {v.completed} completed, "
                      f"{v.in_error} in error")


def cmd_deploy(ctx: Context, args) -> None:
    data = _read(args.file, "FILE")
    deployed = deploy_file(ctx, CLI_ACTOR, data, Path(args.file).name, parse_lanes(args.lanes))
    lines = [f"{each.process_id} version {each.version} "
             f"{'deployed' if each.created else 'already deployed (same file), unchanged'}" for each in deployed]
    _out(args, [{"process_id": each.process_id, "version": each.version, "created": each.created}
                for each in deployed], "\n".join(lines))


def cmd_dry_run(ctx: Context, args) -> None:
    data = _read(args.file, "FILE")
    try:
        steps = parse_steps(_json(args.steps, "--steps"))
    except InvalidInput as err:
        raise _Usage(f"--steps: {err}") from None
    start = _json(args.data, "--data") if args.data else {}
    if not isinstance(start, dict):
        raise _Usage("--data must be a JSON object of start variables")
    result = dry_run(ctx, data, Path(args.file).name, steps, start, parse_lanes(args.lanes))
    lines = [str(p) for p in result.problems] or [
        f"path: {' -> '.join(result.path)}", *(f"mail: {m['template']} to {m['to']}: {m['subject']}"
                                               for m in result.emails),
        *(f"status: {s['what']} {s['status']}" for s in result.statuses)]
    _out(args, result.as_dict(), "\n".join([*lines, result.summary]))


def cmd_bind(ctx: Context, args) -> None:
    process_id = None if args.process_id == "default" else args.process_id
    bind_process(ctx, CLI_ACTOR, args.case_type, process_id, args.customer)
    where = f"customer {args.customer}" if args.customer is not None else "the company"
    _out(args, {"case_type": args.case_type, "process_id": process_id, "customer_id": args.customer},
         f"{args.case_type} approvals of {where} run {process_id or 'the company default'}")


def cmd_scenarios(ctx: Context, args) -> None:
    scenarios = list_scenarios(ctx, CLI_ACTOR, args.process_id)
    value = [{"id": s.id, "name": s.name, "steps": [step.as_dict() for step in s.steps], "expected": s.expected}
             for s in scenarios]
    _out(args, value, "\n".join(f"{s.id}  {s.name}: {s.expected}" for s in scenarios)
         or f"no scenario is saved for {args.process_id}")


def _guarded(func):
    """Bad arguments and input errors exit 2 with one line (other errors: cli.main's exit 1)."""
    def run(ctx: Context, args) -> None:
        try:
            func(ctx, args)
        except (_Usage, InvalidInput) as err:
            print(f"signoff process: error: {err}", file=sys.stderr)
            raise SystemExit(2) from None
    return run


def add_process_parser(sub) -> None:
    """Register `process …` on the `signoff` parser's subcommands (engine.cli.build_parser)."""
    p = sub.add_parser("process", help="deployed processes: list, show, deploy, dry-run, bind, scenarios")
    commands = p.add_subparsers(dest="process_command", required=True)
    c = commands.add_parser("list", help="every process with its versions")
    c.set_defaults(func=_guarded(cmd_list))
    c = commands.add_parser("show", help="one version (the newest unless --version)")
    c.add_argument("process_id")
    c.add_argument("--version", type=int)
    c.set_defaults(func=_guarded(cmd_show))
    c = commands.add_parser("deploy", help="validate and store a BPMN file as a new version")
    c.add_argument("file")
    c.add_argument("--lanes", help="lane to role mapping, e.g. Customer=customer,Accounts=manager")
    c.set_defaults(func=_guarded(cmd_deploy))
    c = commands.add_parser("dry-run", help="run steps against a draft in memory; nothing is stored")
    c.add_argument("file")
    c.add_argument("--steps", required=True, help='a JSON list, or @FILE: [{"action": "complete", "task": '
                                                  '"review_job", "data": {"decision": "approve"}}, '
                                                  '{"action": "wait", "duration": "P3D"}]')
    c.add_argument("--data", help="start variables over the sample job case's, as a JSON object (or @FILE)")
    c.add_argument("--lanes", help="lane to role mapping, as for deploy")
    c.set_defaults(func=_guarded(cmd_dry_run))
    c = commands.add_parser("bind", help="choose the process of a case type (PROCESS_ID 'default': the "
                                         "company's, for a customer)")
    c.add_argument("case_type", help="job or timesheet")
    c.add_argument("process_id")
    c.add_argument("--customer", type=int, help="bind for this customer only")
    c.set_defaults(func=_guarded(cmd_bind))
    c = commands.add_parser("scenarios", help="the saved dry-run scenarios of a process")
    c.add_argument("process_id")
    c.set_defaults(func=_guarded(cmd_scenarios))
    for parser in commands.choices.values():
        parser.add_argument("--json", action="store_true", help="print JSON (stable keys, see the README)")
