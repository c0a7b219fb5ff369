"""Staff forms: the login form (WTForms) and the BPMN task form (fields come from the diagram)."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired("Enter your e-mail address."), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=1000)])


def task_form_data(fields: list[dict], form) -> dict:
    """The submitted values of the task's declared fields only (a checkbox that is absent is false)."""
    data = {}
    for field in fields:
        if field["type"] == "boolean":
            data[field["id"]] = "true" if form.get(field["id"]) else "false"
        elif field["id"] in form:
            data[field["id"]] = form.get(field["id"], "").strip()
    return data


def field_errors(fields: list[dict], message: str) -> dict[str, str]:
    """Split an InvalidInput message ("invalid form data: a: required; b: ...") into one message per field."""
    ids = {field["id"] for field in fields}
    errors = {}
    for part in message.removeprefix("invalid form data: ").split("; "):
        name, _, text = part.partition(": ")
        if name in ids and text:
            errors[name] = text
    return errors
