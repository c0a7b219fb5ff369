"""Run Signoff's deploy check over a folder of BPMN files (e.g. the BPMN MIWG test suite) and print what it says.

    python tools/miwg_check.py /tmp/miwg [--forced-only | --as-exported-only] [--quiet]

Each file is checked twice: as exported, and with every process forced executable (isExecutable="true"),
so the checks behind "no executable process" are reached too. Prints the number of files, deployable,
refused and tracebacks (an exception escaping check_bpmn: must be 0), then every refusal message, so that
vague ones can be spotted. Nothing is stored: check_bpmn never writes.
"""

import argparse
import re
import sys
import tempfile
import traceback
from collections import Counter
from pathlib import Path

from engine.config import Settings
from engine.services.context import open_context
from engine.services.deployments import check_bpmn

_EXECUTABLE = re.compile(rb'(<(?:\w+:)?process\b[^>]*?)\s+isExecutable="(?:true|false)"')
_PROCESS = re.compile(rb"<((?:\w+:)?process)\b")


def forced_executable(data: bytes) -> bytes:
    """The file with every process marked executable."""
    data = _EXECUTABLE.sub(rb"\1", data)
    return _PROCESS.sub(rb'<\1 isExecutable="true"', data)


def run(folder: Path, variants: list[str], quiet: bool) -> int:
    ctx = open_context(Settings(database_url="sqlite://", upload_dir=tempfile.mkdtemp()))
    files = sorted(folder.rglob("*.bpmn"))
    totals: Counter = Counter()
    messages: list[str] = []
    for variant in variants:
        for path in files:
            data = path.read_bytes()
            if variant == "forced":
                data = forced_executable(data)
            totals[variant, "files"] += 1
            try:
                problems = check_bpmn(ctx, data, path.name)
            except Exception:  # noqa: BLE001 - the point of the tool: count what escapes
                totals[variant, "tracebacks"] += 1
                messages.append(f"[{variant}] TRACEBACK {path.relative_to(folder)}\n{traceback.format_exc()}")
                continue
            totals[variant, "refused" if problems else "deployable"] += 1
            messages.extend(f"[{variant}] {path.parent.name}/{problem}" for problem in problems)
    if not quiet:
        print("\n".join(messages))
    for variant in variants:
        print(f"{variant}: files {totals[variant, 'files']}, deployable {totals[variant, 'deployable']}, "
              f"refused {totals[variant, 'refused']}, tracebacks {totals[variant, 'tracebacks']}")
    return 1 if any(totals[v, "tracebacks"] for v in variants) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--forced-only", action="store_true", help="only with every process forced executable")
    parser.add_argument("--as-exported-only", action="store_true", help="only the files as exported")
    parser.add_argument("--quiet", action="store_true", help="only the totals")
    args = parser.parse_args(argv)
    variants = ["as exported", "forced"]
    if args.forced_only:
        variants = ["forced"]
    elif args.as_exported_only:
        variants = ["as exported"]
    return run(args.folder, variants, args.quiet)


if __name__ == "__main__":
    sys.exit(main())
