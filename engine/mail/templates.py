"""Render e-mails from Jinja2 templates in Jinja2's sandbox, and check an admin's edit before it is stored.

A mail is `email_templates/<name>.j2`; it extends `base.j2` and defines three blocks: `subject`, `text`
(plain-text body) and `html` (HTML body). An admin-edited source (from the database) takes precedence over
the shipped file of the same name. Only the HTML is autoescaped: the subject and the text body are rendered
by a second environment without escaping, so a customer's `<b>` stays `<b>` in the text mail. Every unknown
variable is an error (`StrictUndefined`), and unsafe attribute access raises `SecurityError`; a rendering
is bounded in loop iterations, size and time (`engine.mail.sandbox`). All of these surface as
`TemplateError`, naming the template and line.
"""

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from types import TracebackType

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SecurityError

from engine.mail.sandbox import (
    DEFAULT_LIMITS,
    BoundedSandboxedEnvironment,
    LimitExceeded,
    TemplateLimits,
    bounded,
    literal_loop_problem,
    output,
)

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "email_templates"
LAYOUT_NAME = "base"
REQUIRED_BLOCKS = ("subject", "text", "html")
LAYOUT_BLOCKS = ("text", "html")

TEMPLATE_NAMES: tuple[str, ...] = (
    "approval_request_to_customer",
    "reminder_to_customer",
    "query_answered_to_customer",
    "approved_to_manager",
    "rejected_to_manager",
    "queried_to_manager",
    "expired_auto_approved_to_manager",
    "escalated_to_manager",
    "portal_invitation_to_customer",
    "login_code_to_customer",
    "login_notice_to_customer",
    "message_to_customer",
    "staff_lockout_to_staff",
)

# Variables a process may leave out: a template tests them with `{% if comment %}`, and a typo still fails.
OPTIONAL_VARIABLES = ("deadline", "comment", "answer", "decision", "approval_period", "remaining_period_iso",
                      "job_id", "registration_ids", "customer_name", "contact_name", "manager_name", "review_items")

SAMPLE_CONTEXT: dict = {
    "title": "Boiler service at 12 Mill Lane, March 2026",
    "customer_id": 42,
    "job_id": 1017,
    "registration_ids": [501, 502],
    "manager_id": 7,
    "decision": "approved",
    "comment": "Looks good. Please send the invoice to accounts@millhouse.example.",
    "answer": "The second visit was needed to replace the pressure valve; it is listed as item 3.",
    "approval_period": "P7D",
    "remaining_period_iso": "PT273600S",
    "outcome": "approved",
    "instance_id": 311,
    "process_id": "job_approval",
    "portal_url": "https://portal.example.com/portal",
    "deadline": "2026-03-20T17:00:00+00:00",
    "customer_name": "Mill House Lettings Ltd",
    "contact_name": "Dana Whitfield",
    "manager_name": "Sam Okafor",
    "company_name": "Brightwater Heating Services",
    "code": "483 921",
    "valid_minutes": 15,
    "at": "2026-03-14T09:26:00+00:00",
    "browser": "Firefox 124 on Windows",
    "client_ip": "203.0.113.7",
    "message_body": "The keys for the plant room are with reception from Monday.\nPlease ask for Sam.",
    "sender_name": "Sam Okafor",
    "staff_name": "Robin Jansen",
    "lock_minutes": 15,
    # request and reminder mails: each open review with its portal link, one-click links when switched on
    "review_items": [{"title": "Boiler service at 12 Mill Lane, March 2026", "name": "Review the job",
                      "url": "https://portal.example.com/portal/approvals?customer=42#task-88",
                      "approve_url": "https://portal.example.com/portal/decide/88.5.approve.1774026000.x",
                      "reject_url": "https://portal.example.com/portal/decide/88.5.reject.1774026000.y"}],
}

_NAME = re.compile(r"[a-z0-9_]{1,100}")
_RESERVED = "part"  # set by render_mail to choose the text or HTML half of base.j2


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


class TemplateError(Exception):
    """A template that cannot be parsed or rendered; `.template` and `.line` say where (line may be None)."""

    def __init__(self, template: str, message: str, line: int | None = None):
        self.template = template
        self.line = line
        self.reason = message
        where = f"{template}, line {line}" if line else template
        super().__init__(f"e-mail template {where}: {message}")


def render_mail(name: str, context: dict, overrides: Mapping[str, str] | None = None,
                limits: TemplateLimits = DEFAULT_LIMITS) -> RenderedMail:
    """Render mail `name` (e.g. `approval_request_to_customer`) with `context`, within `limits`.

    `overrides` maps template names (`name` or `name.j2`, `base` for the layout) to admin-edited sources
    that replace the shipped files. The three parts share one budget of iterations and time; each part's
    output is counted as it streams, so an oversized part is refused before it is built.
    :raises TemplateError: unknown template, syntax error, unknown variable, unsafe code, a runtime error or
        a limit exceeded (the message names the limit and its setting).
    """
    _check_name(name)
    values = {key: None for key in OPTIONAL_VARIABLES} | dict(context)
    plain, escaping = _environments(_normalise(overrides))
    with _template_errors(name):
        template, escaped = plain.get_template(f"{name}.j2"), escaping.get_template(f"{name}.j2")
        with bounded(limits):  # compiling (cached per set of overrides) is bounded by the source size instead
            subject = _render_part(template, values, "subject")
            text = _render_part(template, values | {_RESERVED: "text"}, "text")
            html = _render_part(escaped, values | {_RESERVED: "html"}, "html")
    return RenderedMail(subject=" ".join(subject.split()), text=_tidy_text(text), html=html.strip() + "\n")


def check_template(name: str, source: str, sample_context: dict, limits: TemplateLimits = DEFAULT_LIMITS) -> None:
    """Refuse an admin's edit of template `name` (`base` for the layout) before it is stored.

    Checks the size, the syntax, loops whose literal bounds exceed `limits` (whichever branch they are in), the
    required blocks, that a mail extends base.j2, and renders it (a layout edit: every shipped mail with it)
    against `sample_context` within `limits`, so unknown variables, unsafe code and runaway branches the
    sample takes are refused. A branch the sample does not take is bounded again when a real mail renders.
    :raises TemplateError: saying what is wrong and, where known, on which line.
    """
    _check_name(name)
    if len(source.encode("utf-8", "surrogatepass")) > limits.max_output_bytes:
        raise TemplateError(name, f"the source is larger than {limits.max_output_bytes} bytes "
                                  "(template_max_output_bytes)")
    with _template_errors(name):
        tree = _environments(())[0].parse(source, name=name)
    problem = literal_loop_problem(tree, limits.max_iterations)
    if problem:
        raise TemplateError(name, problem[1], problem[0])
    is_layout = name == LAYOUT_NAME
    defined = {block.name for block in tree.find_all(nodes.Block)}
    missing = [block for block in (LAYOUT_BLOCKS if is_layout else REQUIRED_BLOCKS) if block not in defined]
    if missing:
        raise TemplateError(name, "missing " + ", ".join(f"{{% block {block} %}}" for block in missing))
    if not is_layout and tree.find(nodes.Extends) is None:
        raise TemplateError(name, '{% extends "base.j2" %} is missing')
    for mail in TEMPLATE_NAMES if is_layout else (name,):
        rendered = render_mail(mail, sample_context, {name: source}, limits)
        if not rendered.subject:
            raise TemplateError(mail, "the subject is empty")


def format_datetime(value: str | datetime | None) -> str:
    """`2026-03-20T17:00:00+00:00` -> `Friday 20 March 2026, 17:00 UTC`; unparseable text is kept as is."""
    if value is None or value == "":
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    text = f"{moment:%A} {moment.day} {moment:%B %Y, %H:%M}"
    return f"{text} {moment:%Z}" if moment.tzinfo is not None else text


_DURATION = re.compile(r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
                       r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?")


def format_duration(value: str | None) -> str:
    """`P7D` -> `7 days`, `PT273600S` -> `3 days and 4 hours` (two largest units); other text is kept as is."""
    match = _DURATION.fullmatch(value or "")
    if not value or match is None or not any(match.groups()):
        return value or ""
    total = timedelta(**{unit: float(n) for unit, n in match.groupdict().items() if n})
    minutes = int(total.total_seconds() + 59) // 60
    parts = [(minutes // 1440, "day"), (minutes % 1440 // 60, "hour"), (minutes % 60, "minute")]
    words = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n][:2]
    return " and ".join(words) or "less than a minute"


def _render_part(template: jinja2.Template, values: dict, part: str) -> str:
    """Render the whole of `template` or, for the subject, its block alone, streaming through the size check
    (as Template.render does, errors point at template lines)."""
    if part == "subject" and part not in template.blocks:
        raise TemplateError(_short(template.name or ""), f"the template defines no {{% block {part} %}}")
    context = template.new_context(values)
    chunks = template.blocks[part](context) if part == "subject" else template.root_render_func(context)
    try:
        return output(chunks, part)
    except Exception:
        template.environment.handle_exception()  # re-raises with the traceback rewritten to template lines
        raise


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise TemplateError(str(name), "a template name is lower-case letters, digits and underscores")


def _normalise(overrides: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    items = (overrides or {}).items()
    return tuple(sorted((key if key.endswith(".j2") else f"{key}.j2", source) for key, source in items))


@lru_cache(maxsize=16)
def _environments(overrides: tuple[tuple[str, str], ...]) -> tuple[jinja2.Environment, jinja2.Environment]:
    """(plain, autoescaping) sandboxed environments; cached per set of overrides, so compiled once."""
    return _make_environment(overrides, autoescape=False), _make_environment(overrides, autoescape=True)


def _make_environment(overrides: tuple[tuple[str, str], ...], *, autoescape: bool) -> jinja2.Environment:
    loader = jinja2.ChoiceLoader([_OverrideLoader(dict(overrides)), jinja2.FileSystemLoader(TEMPLATE_DIR)])
    env = BoundedSandboxedEnvironment(loader=loader, undefined=jinja2.StrictUndefined, autoescape=autoescape,
                                      trim_blocks=True, lstrip_blocks=True)
    env.add_filters(datetime=format_datetime, duration=format_duration)
    return env


class _OverrideLoader(jinja2.DictLoader):
    """A DictLoader whose templates carry their name as file name, so errors report it."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, object]:
        source, _, uptodate = super().get_source(environment, template)
        return source, template, uptodate


@contextmanager
def _template_errors(name: str) -> Iterator[None]:
    """Turn whatever running an (admin-editable) template raises into a TemplateError naming the place."""
    try:
        yield
    except TemplateError:
        raise
    except jinja2.TemplateSyntaxError as err:
        raise TemplateError(_short(err.name or name), f"syntax error: {err.message}", err.lineno) from None
    except jinja2.TemplateNotFound as err:
        raise TemplateError(name, f"no such template: {err.name}") from None
    except SecurityError as err:
        raise _located(err, name, f"not allowed: {err}") from None
    except LimitExceeded as err:
        raise _located(err, name, f"over a limit: {err}") from None
    except RecursionError as err:
        raise _located(err, name, "macros or loops call themselves too deeply") from None
    except jinja2.UndefinedError as err:
        raise _located(err, name, f"unknown variable or attribute: {err}") from None
    except (jinja2.TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as err:
        raise _located(err, name, f"{type(err).__name__}: {err}") from None


def _located(err: BaseException, name: str, message: str) -> TemplateError:
    """A TemplateError at the innermost template frame of `err`'s traceback (Jinja rewrites it to point there)."""
    template, line = name, None
    tb: TracebackType | None = err.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            template, line = _short(filename), tb.tb_lineno
        tb = tb.tb_next
    return TemplateError(template, message, line)


def _short(filename: str) -> str:
    return Path(filename).name.removesuffix(".j2")


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"
