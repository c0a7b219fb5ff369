"""Staff forms: login, the BPMN task form (fields come from the diagram), service errors put on fields."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from engine.errors import InvalidInput


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


def show_errors(form: FlaskForm, err: InvalidInput) -> None:
    """Put each "field: problem" of a service's InvalidInput on its visible field; the rest go to the top of the
    form."""
    hidden = ("HiddenField", "CSRFTokenField")
    names = [{"id": name} for name, field in form._fields.items() if field.type not in hidden]
    errors = field_errors(names, str(err))
    for name, text in errors.items():
        form[name].errors = [text]
    form.form_errors.extend(part for part in str(err).split("; ") if part.partition(": ")[0] not in errors)


def form_values(form: FlaskForm) -> dict:
    """The form's fields as keyword arguments for a service (without the CSRF token)."""
    return {name: value for name, value in form.data.items() if name != "csrf_token"}


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as a SelectField's choices."""
    return [SelectChoice(value, label) for value, label in pairs]
