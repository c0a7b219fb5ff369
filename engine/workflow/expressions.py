"""Translate Camunda-style BPMN expressions into the Python SpiffWorkflow evaluates.

Pure string functions; `engine.workflow.bpmn_xml` walks the XML and adds element ids.
"""

import keyword
import re
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition


class ExpressionError(ValueError):
    """An expression that cannot be translated into Python, or is not valid Python."""


class _Token(NamedTuple):
    kind: str
    text: str
    spaced: bool  # whitespace preceded the token in the source


_EL_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<name>[^\W\d]\w*)
      | (?P<op>===|!==|==|!=|<=|>=|&&|\|\||[-+*/%<>!()\[\],.?:])""",
    re.VERBOSE | re.DOTALL,
)
# Operators whose spelling differs between the expression language (EL) and Python.
_EL_TO_PYTHON = {
    "===": "==", "!==": "!=", "&&": "and", "||": "or", "!": "not",
    "true": "True", "false": "False", "null": "None",
    "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=",
    "div": "/", "mod": "%",
}  # fmt: skip
_PYTHON_NAMES = {"and", "or", "not", "True", "False", "None"}
_WORD_OPERATORS = {"and", "or", "not"}
_EL_WORD_OPERATORS = {
    "and", "or", "not", "eq", "ne", "lt", "gt", "le", "ge", "div", "mod",
}  # fmt: skip
_WORDISH = re.compile(r"[\w'\"]")  # characters that would glue two tokens together
# A `not` needs no parentheses between these neighbours: Python's `not` binds more
# loosely than comparisons, while EL's `!` binds to the next operand only.
_OPEN_BEFORE_NOT = {None, "(", "[", ",", "&&", "||", "and", "or", "!", "not"}
_CLOSE_AFTER_NOT = {None, ")", "]", ",", "&&", "||", "and", "or"}

_LOOSE_DURATION = re.compile(r"P[\dT][\dYMWDTHS.,]*")
_LOOSE_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[\dT:.,Z+-]*")
_LOOSE_CYCLE = re.compile(r"R\d*/\S*")
_TIMER_KINDS = {
    "timeDuration": "duration",
    "timeDate": "date-time",
    "timeCycle": "cycle",
}
_EXAMPLES = {
    "duration": "PT72H",
    "date-time": "2026-12-01T09:00:00Z",
    "cycle": "R3/PT10H",
}


def validate_python_expression(expr: str) -> str | None:
    """Return why `expr` is not a Python eval expression, or None when it compiles."""
    if not expr.strip():
        return "the expression is empty"
    try:
        compile(expr, "<expr>", "eval")
    except SyntaxError as exc:
        return f"invalid Python expression {expr!r}: {exc.msg}"
    return None


def translate_condition(text: str) -> str:
    """Return the Python for a sequence flow condition; only `${...}` is translated.

    :raises ExpressionError: the `${...}` expression has no Python equivalent.
    """
    text = text.strip()
    return _translate_el(text) if text.startswith(("${", "#{")) else text


def translate_timer(text: str, element: str) -> str:
    """Return the Python for the text of a timeDuration/timeDate/timeCycle `element`.

    A bare ISO 8601 literal becomes a quoted string, `${...}` is translated, and any
    other text is kept as a Python expression.
    :raises ExpressionError: an invalid or zone-less literal, or the wrong kind.
    """
    text = text.strip()
    if text.startswith(("${", "#{")):
        return _translate_el(text)
    kind = _iso_literal_kind(text)
    if kind is None:
        return text
    expected = _TIMER_KINDS[element]
    if kind != expected:
        example = _EXAMPLES[expected]
        raise ExpressionError(
            f"{element} needs an ISO 8601 {expected} such as {example}, got {text!r}"
        )
    return f'"{text}"'


def _iso_literal_kind(text: str) -> str | None:
    """Classify (and validate) a bare ISO 8601 literal; None when `text` is not one."""
    if _LOOSE_CYCLE.fullmatch(text):
        parts = text.replace("--", "/").split("/")[1:]
        for part in parts:
            if _LOOSE_DATETIME.fullmatch(part):
                _check_datetime(part)
        durations = sum(bool(_LOOSE_DURATION.fullmatch(part)) for part in parts)
        if durations != 1 or len(parts) - durations > 1:  # one duration, <= 1 date
            raise ExpressionError(
                f"{text!r} is not a valid ISO 8601 recurring interval"
            )
        parse_cycle = TimerEventDefinition.parse_iso_recurring_interval
        _check_with_spiff(parse_cycle, text, "recurring interval")
        return "cycle"
    if _LOOSE_DURATION.fullmatch(text):
        _check_with_spiff(TimerEventDefinition.parse_iso_duration, text, "duration")
        return "duration"
    if _LOOSE_DATETIME.fullmatch(text):
        _check_datetime(text)
        return "date-time"
    return None


def _check_datetime(text: str) -> None:
    """Refuse an invalid date-time, or one SpiffWorkflow would read as local time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ExpressionError(f"{text!r} is not a valid ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise ExpressionError(
            f"a time zone is required in date-time {text!r} (add Z or an offset such"
            " as +01:00); without one it would be read in the server's local time zone"
        )


def _check_with_spiff(parse: Callable[[str], object], text: str, what: str) -> None:
    """Run SpiffWorkflow's own timer parser, so that we accept what it accepts."""
    try:
        parse(text)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises bare Exception for bad literals
        raise ExpressionError(f"{text!r} is not a valid ISO 8601 {what}") from None


def _translate_el(text: str) -> str:
    """Translate a whole `${...}` EL expression into one Python expression."""
    if not (text.startswith("${") and text.endswith("}")):
        raise ExpressionError(
            f"cannot translate {text!r}: only a single ${{...}} expression is supported"
        )
    tokens = _scan(text, text[2:-1])
    if not tokens:
        raise ExpressionError(f"cannot translate {text!r}: the expression is empty")
    closers = [0] * len(tokens)
    pieces: list[_Token] = []
    for index, token in enumerate(tokens):
        translated = token._replace(text=_EL_TO_PYTHON.get(token.text, token.text))
        if token.text in ("!", "not"):
            end = _operand_end(tokens, index + 1)
            if end > index + 1 and _not_needs_parentheses(tokens, index, end):
                pieces.append(_Token("op", "(", token.spaced))
                translated = translated._replace(spaced=False)
                closers[end - 1] += 1
        pieces.append(translated)
        pieces.extend([_Token("op", ")", False)] * closers[index])
    return _join(pieces)


def _scan(text: str, body: str) -> list[_Token]:
    """Split an EL body into tokens, refusing what we cannot translate faithfully."""
    tokens: list[_Token] = []
    position, spaced = 0, False
    while position < len(body):
        match = _EL_TOKEN.match(body, position)
        if match is None:
            char = body[position]
            problem = f"unexpected character {char!r}"
            if char in "'\"":
                problem = "unterminated string"
            raise ExpressionError(f"cannot translate {text!r}: {problem}")
        position, kind, value = match.end(), match.lastgroup or "", match.group()
        if kind == "space":
            spaced = True
            continue
        previous = tokens[-1] if tokens else None
        problem = _unsupported(kind, value, previous)
        if problem:
            raise ExpressionError(f"cannot translate {text!r}: {problem}")
        tokens.append(_Token(kind, value, spaced))
        spaced = False
    return tokens


def _unsupported(kind: str, value: str, previous: _Token | None) -> str | None:
    """Why the token `value` has no faithful Python translation, or None."""
    if value == ".":
        return "property access and method calls (a.b, a.b()) are not supported"
    if value == "(" and previous and _ends_operand(previous):
        return "function and method calls are not supported"
    if value in ("?", ":"):
        return "the ?: operator is not supported"
    if kind == "name" and keyword.iskeyword(value) and value not in _PYTHON_NAMES:
        return (
            f"{value!r} is not an expression-language operator"
            " (write plain Python, without ${}, to use it)"
        )
    if kind == "name" and value in ("empty", "instanceof"):
        return f"the {value!r} operator is not supported"
    return None


def _ends_operand(token: _Token) -> bool:
    """True when `token` can end an operand, so that a following `(` would be a call."""
    if token.kind == "name":
        return token.text not in _EL_WORD_OPERATORS
    return token.kind in ("string", "number") or token.text in (")", "]")


def _not_needs_parentheses(tokens: list[_Token], index: int, end: int) -> bool:
    """True when the `not` at `index`, applied up to `end`, needs parentheses."""
    before = tokens[index - 1].text if index else None
    after = tokens[end].text if end < len(tokens) else None
    return before not in _OPEN_BEFORE_NOT or after not in _CLOSE_AFTER_NOT


def _operand_end(tokens: list[_Token], start: int) -> int:
    """Index just past the operand of a unary `!` that starts at `start`."""
    index = start
    while index < len(tokens) and tokens[index].text in ("!", "not", "-", "+"):
        index += 1
    if index < len(tokens) and tokens[index].text not in _CLOSE_AFTER_NOT:
        index = _past_group(tokens, index)
    while index < len(tokens) and tokens[index].text == "[":
        index = _past_group(tokens, index)
    return index


def _past_group(tokens: list[_Token], index: int) -> int:
    """Index just past the token at `index`, or past the bracket that closes it."""
    depth = 0
    for position in range(index, len(tokens)):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(tokens[position].text, 0)
        if depth <= 0:
            return position + 1
    return len(tokens)


def _join(pieces: list[_Token]) -> str:
    """Join tokens, keeping source spacing and keeping words such as `not` apart."""
    out: list[str] = []
    for piece in pieces:
        if out and _needs_space(out[-1], piece):
            out.append(" ")
        out.append(piece.text)
    return "".join(out)


def _needs_space(left: str, right: _Token) -> bool:
    """True when `right` must be separated from the text `left` by a space."""
    if right.spaced:
        return True
    if _WORDISH.match(left[-1]) and _WORDISH.match(right.text[0]):
        return True
    return left in _WORD_OPERATORS and right.text not in (")", "]", ",")
