"""An admin's edits of the shipped e-mail templates: checked before they are stored, reset to the shipped file.

An edit is stored as an `EmailTemplate` row that takes precedence over `email_templates/<name>.j2` the next
time a mail is rendered; deleting the row returns to the shipped file.
"""

from sqlalchemy import select

from engine.errors import InvalidInput
from engine.mail.sandbox import TemplateLimits
from engine.mail.templates import (
    LAYOUT_NAME,
    SAMPLE_CONTEXT,
    TEMPLATE_DIR,
    TEMPLATE_NAMES,
    TemplateError,
    check_template,
    render_mail,
)
from engine.models import EmailTemplate
from engine.services.context import Context

EDITABLE_NAMES: tuple[str, ...] = (LAYOUT_NAME, *TEMPLATE_NAMES)


def _check_known(name: str) -> None:
    if name not in EDITABLE_NAMES:
        raise InvalidInput(f"unknown e-mail template {name!r}; the templates are: {', '.join(EDITABLE_NAMES)}")


def save_template(ctx: Context, name: str, source: str, actor_name: str) -> None:
    """Store `source` as the admin's version of template `name` (`base` for the layout), replacing any earlier edit.

    The edit is parsed, checked for loops whose literal bounds exceed the template limits, and rendered against
    `SAMPLE_CONTEXT` within those limits first; nothing is stored if that fails.
    :raises InvalidInput: unknown template name, or a source that does not parse, exceeds a limit or does not
        render (the message names the template, where known the line, and the limit's setting).
    """
    _check_known(name)
    if not isinstance(source, str) or not source.strip():
        raise InvalidInput(f"e-mail template {name}: the source is empty")
    try:
        check_template(name, source, SAMPLE_CONTEXT, TemplateLimits.from_settings(ctx.settings))
    except TemplateError as err:
        raise InvalidInput(str(err)) from None
    with ctx.uow() as uow:
        row = uow.session.get(EmailTemplate, name)
        if row is None:
            row = EmailTemplate(name=name)
            uow.session.add(row)
        row.source = source
        row.updated_at = ctx.clock()
        row.updated_by = actor_name
        uow.commit()


def reset_template(ctx: Context, name: str) -> None:
    """Drop the admin's edit of template `name`, so the shipped file is used again (no edit: nothing happens).

    :raises InvalidInput: unknown template name.
    """
    _check_known(name)
    with ctx.uow() as uow:
        row = uow.session.get(EmailTemplate, name)
        if row is not None:
            uow.session.delete(row)
        uow.commit()


def get_template_source(ctx: Context, name: str) -> tuple[str, bool]:
    """The source of template `name` now in use, and whether it is an admin's edit (else the shipped file).

    :raises InvalidInput: unknown template name.
    """
    _check_known(name)
    with ctx.uow() as uow:
        row = uow.session.get(EmailTemplate, name)
        if row is not None:
            return row.source, True
    return (TEMPLATE_DIR / f"{name}.j2").read_text(encoding="utf-8"), False


def list_templates(ctx: Context) -> list[dict]:
    """Every editable template with whether (and by whom, when) an admin changed it."""
    with ctx.uow() as uow:
        edits = {row.name: row for row in uow.session.scalars(select(EmailTemplate))}
    return [{"name": name, "edited": name in edits,
             "updated_by": edits[name].updated_by if name in edits else None,
             "updated_at": edits[name].updated_at.isoformat() if name in edits else None}
            for name in EDITABLE_NAMES]


def preview_template(ctx: Context, name: str) -> dict:
    """The mail `name` as it would go out now (admins' edits included), rendered with the sample values; for
    the layout, the first mail shows it.

    :raises InvalidInput: unknown template name, or a stored edit that no longer renders.
    """
    _check_known(name)
    with ctx.uow() as uow:
        overrides = {row.name: row.source for row in uow.session.scalars(select(EmailTemplate))}
    try:
        mail = render_mail(TEMPLATE_NAMES[0] if name == LAYOUT_NAME else name, SAMPLE_CONTEXT, overrides,
                           TemplateLimits.from_settings(ctx.settings))
    except TemplateError as err:
        raise InvalidInput(str(err)) from None
    return {"subject": mail.subject, "text": mail.text, "html": mail.html}
