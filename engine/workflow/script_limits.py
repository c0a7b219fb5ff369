"""Size and time limits for BPMN scripts: every value an operator, builtin or method builds is bounded.

One C-level call can't be interrupted, so the time limit only holds if no single call can run long:
each guard checks the deadline first (`tick`) and refuses to build a value over `max_size`
characters/items (ints: bits), so no one call can do more than roughly `max_size`² cheap steps.
"""

import itertools
import re
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

FILENAME = "<string>"  # SpiffWorkflow finds the failing script line by this frame name


class ScriptTimeout(Exception):
    """A script or expression ran longer than its time limit."""


class ScriptNotAllowed(Exception):
    """A script or expression uses something the sandbox refuses (imports, '_' names, ...)."""


class ScriptTooLarge(ScriptNotAllowed):
    """A script or expression would build a value over the size limit."""


@dataclass(frozen=True)
class _Run:
    deadline: float
    time_limit: float
    max_size: int


# Guards outside a run (a script function called after its script ended) find the deadline passed.
_RUN: ContextVar[_Run] = ContextVar("script_run", default=_Run(0.0, 0.0, 0))  # noqa: B039 - frozen


def start_run(time_limit: float, max_size: int) -> Any:
    """Install the limits for the script about to run in this context; returns the token for `end_run`."""
    return _RUN.set(_Run(time.monotonic() + time_limit, time_limit, max_size))


def end_run(token: Any) -> None:
    _RUN.reset(token)


def tick() -> bool:
    """Raise ScriptTimeout once the deadline has passed; True so it can guard `tick() and x`."""
    run = _RUN.get()
    if time.monotonic() > run.deadline:
        raise ScriptTimeout(f"script ran longer than its time limit of {run.time_limit} s")
    return True


def max_size() -> int:
    return _RUN.get().max_size


def too_large(what: str, unit: str = "characters or items") -> ScriptTooLarge:
    limit = max_size()
    return ScriptTooLarge(f"{what} would build a value over {limit} {unit} (the limit script_max_value_size)")


_SIZED = (str, bytes, list, tuple, dict, set, frozenset)


def check_size(what: str, value: Any) -> Any:
    """Refuse `value` (already built, at most a few times the limit) if it is over the limit."""
    limit = max_size()
    if isinstance(value, _SIZED) and len(value) > limit:
        raise too_large(what)
    if isinstance(value, int) and value.bit_length() > limit:
        raise too_large(what, "bits")
    return value


def weight(value: Any, cap: int) -> int:
    """Characters and items of `value` and of everything in it, counting each reference again (what
    printing or comparing it costs): a list of n small ints weighs n + 1, of n strings of k characters
    n * k + 1. Stops counting past `cap`, so shared references and cycles end too."""
    total, stack = 1, [value]  # each item is counted (1) when its container is; the rest when it is popped
    while stack and total <= cap:
        item = stack.pop()
        if isinstance(item, str | bytes):
            total += max(len(item) - 1, 0)
        elif isinstance(item, int):
            total += item.bit_length() // 3 if item.bit_length() > 64 else 0
        elif isinstance(item, dict):
            total += 2 * len(item)
            if total <= cap:
                stack.extend(itertools.chain(item, item.values()))
        elif isinstance(item, list | tuple | set | frozenset):
            total += len(item)
            if total <= cap:
                stack.extend(item)
        elif isinstance(item, BaseException):
            total += len(item.args)
            stack.extend(item.args)
    return total


def check_weight(what: str, value: Any) -> Any:
    """Refuse `value` if, with everything it contains, it holds over the limit."""
    if weight(value, max_size()) > max_size():
        raise too_large(what, "characters and items in all")
    return value


def bounded_list(what: str, iterable: Iterable, room: int | None = None) -> list:
    """The items of `iterable` as a list, refused once there are more than `room` (default: the limit)."""
    room = max_size() if room is None else room
    items = list(itertools.islice(iterable, room + 1))
    if len(items) > room:
        raise too_large(what)
    return items


# --- operators ------------------------------------------------------------------------------------

def _check_int_result(symbol: str, left: int, right: int) -> None:
    if symbol == "**":
        bits = 0 if right < 0 or abs(left) <= 1 else left.bit_length() * right
    elif symbol == "<<":
        bits = 0 if right < 0 or left == 0 else left.bit_length() + right
    else:
        bits = left.bit_length() + right.bit_length()
    if bits > max_size():
        raise too_large(f"'{symbol}'", "bits")


def _check_repeat(left: Any, right: Any) -> None:
    sequence, count = (left, right) if isinstance(right, int) else (right, left)
    if isinstance(sequence, str | bytes | list | tuple) and isinstance(count, int) and count > 0 and sequence:
        items = weight(sequence, max_size()) - (0 if isinstance(sequence, str | bytes) else 1)
        if len(sequence) * count > max_size() or items * count > max_size():
            raise too_large("'*'")


_PERCENT_SPEC = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[-#0 +]*(?P<width>\*|\d+)?(?:\.(?P<precision>\*|\d*))?[hlL]?(?P<kind>.)", re.S
)


def percent_format(template: str, args: Any) -> str:
    """`template % args`, refused before it is built when widths or arguments would make it too large."""
    limit = max_size()
    estimate, positional, index = len(template), args if isinstance(args, tuple) else (args,), 0
    for spec in _PERCENT_SPEC.finditer(template):
        if spec["kind"] == "%":
            continue
        if "*" in (spec["width"], spec["precision"]):
            raise ScriptNotAllowed("'*' widths in % formatting are not allowed")
        estimate += int(spec["width"] or 0) + int(spec["precision"] or 0)
        if spec["key"] is not None and isinstance(args, dict):
            value = args.get(spec["key"])
        else:
            value, index = (positional[index] if index < len(positional) else None), index + 1
        estimate += weight(value, limit)
        if estimate > limit:
            raise too_large("'%' formatting")
    return check_size("'%' formatting", template % args)


def check_operands(symbol: str, left: Any, right: Any) -> None:
    """Refuse an operation whose result would be too large before Python builds it (in C, unstoppable)."""
    if isinstance(left, int) and isinstance(right, int) and symbol in ("*", "**", "<<"):
        _check_int_result(symbol, left, right)
    elif symbol == "*":
        _check_repeat(left, right)


# --- formatting -----------------------------------------------------------------------------------

_CONVERSIONS: dict[int, Callable[[Any], str]] = {ord("s"): str, ord("r"): repr, ord("a"): ascii}


def format_value(value: Any, conversion: int, spec: str) -> str:
    """One `{value!conversion:spec}` of an f-string, with its width, precision and value bounded."""
    tick()
    check_weight("an f-string", value)
    if sum(int(number) for number in re.findall(r"\d+", spec)) > max_size():
        raise too_large("an f-string's width or precision")
    if conversion in _CONVERSIONS:
        value = check_size("an f-string", _CONVERSIONS[conversion](value))
    return check_size("an f-string", format(value, spec))


def join_parts(*parts: str) -> str:
    """The pieces of an f-string joined, refused before joining when the whole would be too large."""
    tick()
    if sum(len(part) for part in parts) > max_size():
        raise too_large("an f-string")
    return "".join(parts)
