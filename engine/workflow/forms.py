"""Check a user task's submitted data against the form declared in the BPMN (camunda:formData).

This is the one place where completion data is checked: the portal (single and bulk), the staff task page and
`signoff complete` all complete tasks through engine.services.instances, which calls validate_form. Besides
Camunda's constraints a field may carry the property `required_when` = `other_field=value[,value…]`: the field
is required when the other field has one of those values (the shipped reviews: a query needs a comment).
"""

import keyword
from datetime import date
from typing import Any

from engine.errors import InvalidInput

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0", ""}


# What a page offers for a user task without a form: a plain Complete with an optional comment.
COMMENT_FIELD = {"id": "comment", "label": "Comment", "type": "string", "default": None, "options": []}


def form_for_pages(fields: list[dict]) -> list[dict]:
    """The fields a browser form shows and may post: the task's own, or only a comment for a task without one."""
    return fields or [COMMENT_FIELD]


def validate_form(fields: list[dict], data: dict[str, Any], strict: bool = True) -> dict[str, Any]:
    """Return the cleaned values of every form field (missing optional ones as None/False).

    A task without a form takes any variables when not `strict` (the CLI and integrations, as SpiffWorkflow and
    Camunda do), only a comment when `strict` (pages: browsers post declared fields only).
    :raises InvalidInput: listing each bad field; fields the form does not declare are refused.
    """
    if not fields and not strict:
        return _free_variables(data)
    fields = form_for_pages(fields) if strict else fields
    problems = [f"{name}: not a field of this form" for name in data if name not in {f["id"] for f in fields}]
    values: dict[str, Any] = {}
    for field in fields:
        raw = data.get(field["id"])
        if _empty(raw):
            if field.get("required"):
                problems.append(f"{field['id']}: required")
            values[field["id"]] = False if field["type"] == "boolean" else _default(field)
            continue
        try:
            values[field["id"]] = _convert(field, raw)
        except ValueError as err:
            problems.append(f"{field['id']}: {err}")
    for field in fields:
        rule = required_when(field)
        if rule is not None and values.get(rule[0]) in rule[1] and _empty(values.get(field["id"])):
            problems.append(f"{field['id']}: required when {rule[0]} is {values[rule[0]]}")
    if problems:
        raise InvalidInput("invalid form data: " + "; ".join(problems))
    return values


def _free_variables(data: dict[str, Any]) -> dict[str, Any]:
    """Variables for a task without a form: any JSON values under names a process can read."""
    problems = [f"{name!r}: not a variable name (letters, digits and _, not starting with a digit or _)"
                for name in data if not _variable_name(name)]
    if problems:
        raise InvalidInput("invalid task data: " + "; ".join(problems))
    return dict(data)


def _variable_name(name: object) -> bool:
    return isinstance(name, str) and name.isidentifier() and not name.startswith("_") and not keyword.iskeyword(name)


def required_when(field: dict) -> tuple[str, frozenset[str]] | None:
    """The field's `required_when` rule as (other field id, values), or None; malformed text is a ValueError."""
    text = field.get("required_when")
    if text is None:
        return None
    other, sep, values = str(text).partition("=")
    choices = frozenset(v.strip() for v in values.split(",") if v.strip())
    if not sep or not other.strip() or not choices:
        raise ValueError(f"form field {field['id']!r}: required_when must read other_field=value[,value], "
                         f"not {text!r}")
    return other.strip(), choices


def check_rules(fields: list[dict]) -> list[str]:
    """Deploy-time check of every `required_when`: it parses, names another field, and (for an enum) its values."""
    by_id = {field["id"]: field for field in fields}
    problems = []
    for field in fields:
        try:
            rule = required_when(field)
        except ValueError as err:
            problems.append(str(err))
            continue
        if rule is None:
            continue
        other = by_id.get(rule[0])
        if other is None or other is field:
            problems.append(f"form field {field['id']!r}: required_when names {rule[0]!r}, not another field")
        elif other["type"] == "enum" and not rule[1] <= {option["id"] for option in other["options"]}:
            problems.append(f"form field {field['id']!r}: required_when values {sorted(rule[1])} are not all "
                            f"options of {rule[0]!r}")
    return problems


def _empty(value: Any) -> bool:
    """Missing, empty or only blanks: a comment of three spaces is no comment."""
    return value is None or (isinstance(value, str) and not value.strip())


def _default(field: dict) -> Any:
    return _convert(field, field["default"]) if field.get("default") not in (None, "") else None


def _convert(field: dict, raw: Any) -> Any:
    kind = field["type"]
    if kind == "enum":
        allowed = [option["id"] for option in field["options"]]
        if raw not in allowed:
            raise ValueError(f"{raw!r} is not one of {allowed}")
        return raw
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in _TRUE | _FALSE:
            return str(raw).lower() in _TRUE
        raise ValueError(f"{raw!r} is not true or false")
    if kind == "long":
        if isinstance(raw, bool) or not str(raw).lstrip("-").isdigit():
            raise ValueError(f"{raw!r} is not a whole number")
        return _bounded(field, int(raw))
    if kind == "date":
        try:
            return date.fromisoformat(str(raw)).isoformat()
        except ValueError:
            raise ValueError(f"{raw!r} is not a date (YYYY-MM-DD)") from None
    text = str(raw)
    if field.get("maxlength") and len(text) > int(field["maxlength"]):
        raise ValueError(f"longer than {field['maxlength']} characters")
    if field.get("minlength") and len(text) < int(field["minlength"]):
        raise ValueError(f"shorter than {field['minlength']} characters")
    return text


def _bounded(field: dict, value: int) -> int:
    if field.get("min") is not None and value < int(field["min"]):
        raise ValueError(f"below the minimum {field['min']}")
    if field.get("max") is not None and value > int(field["max"]):
        raise ValueError(f"above the maximum {field['max']}")
    return value
