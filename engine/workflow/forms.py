"""Check a user task's submitted data against the form declared in the BPMN (camunda:formData)."""

from datetime import date
from typing import Any

from engine.errors import InvalidInput

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0", ""}


def validate_form(fields: list[dict], data: dict[str, Any]) -> dict[str, Any]:
    """Return the cleaned values of every form field (missing optional ones as None/False).

    :raises InvalidInput: listing each bad field; fields the form does not declare are refused.
    """
    problems = [f"{name}: not a field of this form" for name in data if name not in {f["id"] for f in fields}]
    values: dict[str, Any] = {}
    for field in fields:
        raw = data.get(field["id"])
        if raw is None or raw == "":
            if field.get("required"):
                problems.append(f"{field['id']}: required")
            values[field["id"]] = False if field["type"] == "boolean" else _default(field)
            continue
        try:
            values[field["id"]] = _convert(field, raw)
        except ValueError as err:
            problems.append(f"{field['id']}: {err}")
    if problems:
        raise InvalidInput("invalid form data: " + "; ".join(problems))
    return values


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
