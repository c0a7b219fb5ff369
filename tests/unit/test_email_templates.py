"""The shipped e-mail templates render, and an admin's edit is checked (syntax, blocks, variables, sandbox,
and the bounds on iterations, sizes and time)."""

import dataclasses
import time
import tracemalloc

import pytest

from engine.mail.sandbox import DEFAULT_LIMITS, TemplateLimits
from engine.mail.templates import (
    SAMPLE_CONTEXT,
    TEMPLATE_DIR,
    TEMPLATE_NAMES,
    TemplateError,
    check_template,
    format_datetime,
    format_duration,
    render_mail,
)

SCRIPT = "<script>alert('x')</script>"
MINIMAL = """{% extends "base.j2" %}
{% block subject %}Hi {{ title }}{% endblock %}
{% block text %}Plain {{ comment }}{% endblock %}
{% block html %}<p>{{ comment }}</p>{% endblock %}
"""


def shipped(name: str) -> str:
    return (TEMPLATE_DIR / f"{name}.j2").read_text()


def test_every_shipped_mail_has_a_file_and_every_file_is_listed():
    files = {path.stem for path in TEMPLATE_DIR.glob("*.j2")} - {"base"}
    assert files == set(TEMPLATE_NAMES)


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_shipped_template_renders_with_the_sample_context(name):
    mail = render_mail(name, SAMPLE_CONTEXT)

    assert mail.subject and "\n" not in mail.subject
    assert mail.text.strip() and mail.html.strip()
    assert SAMPLE_CONTEXT["company_name"] in mail.html  # the layout's header
    assert "You receive this e-mail because" in mail.html
    assert "You receive this e-mail because" in mail.text
    assert "<html" not in mail.text


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_shipped_template_passes_its_own_check(name):
    check_template(name, shipped(name), SAMPLE_CONTEXT)


@pytest.mark.parametrize("name", [n for n in TEMPLATE_NAMES if not n.startswith(("login_", "portal_", "staff_"))])
def test_subject_names_the_title(name):
    assert SAMPLE_CONTEXT["title"] in render_mail(name, SAMPLE_CONTEXT).subject


def test_approval_request_shows_the_deadline_and_portal_link():
    mail = render_mail("approval_request_to_customer", SAMPLE_CONTEXT)

    assert "Friday 20 March 2026, 17:00 UTC" in mail.text
    assert SAMPLE_CONTEXT["portal_url"] in mail.text
    assert f'href="{SAMPLE_CONTEXT["portal_url"]}"' in mail.html


def test_optional_variables_may_be_missing():
    context = {key: SAMPLE_CONTEXT[key] for key in ("title", "portal_url", "company_name")}

    mail = render_mail("approval_request_to_customer", context)

    assert "Hello there," in mail.text
    assert "reply by" not in mail.text


def test_html_escapes_a_comment_while_text_keeps_it_literally():
    context = SAMPLE_CONTEXT | {"comment": SCRIPT, "title": "Fish & chips"}

    mail = render_mail("rejected_to_manager", context)

    assert SCRIPT not in mail.html
    assert "&lt;script&gt;" in mail.html
    assert "Fish &amp; chips" in mail.html
    assert SCRIPT in mail.text
    assert mail.subject.startswith("Rejected: Fish & chips")


def test_subject_is_stripped_and_one_line():
    source = MINIMAL.replace("Hi {{ title }}", "\n  Hi\n   {{ title }}  \n")

    mail = render_mail("approved_to_manager", {"title": "T", "company_name": "C"}, {"approved_to_manager": source})

    assert mail.subject == "Hi T"


def test_override_replaces_the_shipped_file():
    mail = render_mail("approved_to_manager", SAMPLE_CONTEXT, {"approved_to_manager": MINIMAL})

    assert mail.subject == f"Hi {SAMPLE_CONTEXT['title']}"
    assert mail.text.startswith(f"Plain {SAMPLE_CONTEXT['comment']}")
    assert "Brightwater Heating Services" in mail.html  # still inside the shipped layout


def test_layout_override_applies_to_every_mail():
    layout = ('{% if part == "text" %}{% block text %}{% endblock %}'
              "{% else %}NEW {% block html %}{% endblock %}{% endif %}")

    mail = render_mail("approved_to_manager", SAMPLE_CONTEXT, {"base": layout})

    assert mail.html.startswith("NEW <p>")
    check_template("base", layout, SAMPLE_CONTEXT)


def test_syntax_error_is_refused_with_its_line():
    source = MINIMAL.replace("{{ comment }}{% endblock %}", "{% if comment %}{{ comment }}{% endblock %}", 1)

    with pytest.raises(TemplateError, match="syntax error") as caught:
        check_template("approved_to_manager", source, SAMPLE_CONTEXT)
    assert caught.value.line == 3
    assert "approved_to_manager, line 3" in str(caught.value)


@pytest.mark.parametrize("block, line", [("subject", 2), ("text", 3), ("html", 4)])
def test_unknown_variable_is_refused_naming_it(block, line):
    source = MINIMAL.replace(f"{{% block {block} %}}", f"{{% block {block} %}}{{{{ titel }}}}")

    with pytest.raises(TemplateError, match="'titel' is undefined") as caught:
        check_template("approved_to_manager", source, SAMPLE_CONTEXT)
    assert caught.value.line == line


def test_unknown_variable_in_a_shipped_mail_fails_at_render_time():
    with pytest.raises(TemplateError, match="'title' is undefined"):
        render_mail("approved_to_manager", {"company_name": "C"})


@pytest.mark.parametrize("expression", [
    "''.__class__.__mro__",
    "cycler.__init__.__globals__",
    "self._TemplateReference__context",
    "'{0.__class__}'.format(1)",
])
def test_sandbox_escape_is_refused(expression):
    source = MINIMAL.replace("<p>{{ comment }}</p>", f"<p>{{{{ {expression} }}}}</p>")

    with pytest.raises(TemplateError, match="not allowed") as caught:
        check_template("approved_to_manager", source, SAMPLE_CONTEXT)
    assert caught.value.line == 4


@pytest.mark.parametrize("block", ["subject", "text", "html"])
def test_missing_block_is_refused(block):
    source = MINIMAL.replace(f"{{% block {block} %}}", "{% block other %}")

    with pytest.raises(TemplateError, match=f"missing {{% block {block} %}}"):
        check_template("approved_to_manager", source, SAMPLE_CONTEXT)


def test_template_not_extending_the_layout_is_refused():
    with pytest.raises(TemplateError, match="extends"):
        check_template("approved_to_manager", MINIMAL.split("\n", 1)[1], SAMPLE_CONTEXT)


def test_runtime_error_is_a_template_error():
    source = MINIMAL.replace("<p>{{ comment }}</p>", "<p>{{ 1 / 0 }}</p>")

    with pytest.raises(TemplateError, match="ZeroDivisionError"):
        check_template("approved_to_manager", source, SAMPLE_CONTEXT)


def test_broken_layout_edit_is_refused():
    layout = shipped("base").replace("{{ company_name }}</td>", "{{ compny }}</td>")

    with pytest.raises(TemplateError, match="'compny' is undefined") as caught:
        check_template("base", layout, SAMPLE_CONTEXT)
    assert caught.value.template == "base"


@pytest.mark.parametrize("name", ["../base", "Approved", "nope"])
def test_bad_or_unknown_template_name_is_refused(name):
    with pytest.raises(TemplateError):
        render_mail(name, SAMPLE_CONTEXT)


@pytest.mark.parametrize("value, expected", [
    ("P7D", "7 days"), ("PT273600S", "3 days and 4 hours"), ("P1DT1M", "1 day and 1 minute"),
    ("PT1H", "1 hour"), ("PT0S", "less than a minute"), ("P1M", "P1M"), (None, ""),
])
def test_format_duration(value, expected):
    assert format_duration(value) == expected


def test_format_datetime():
    assert format_datetime("2026-03-20T17:00:00Z") == "Friday 20 March 2026, 17:00 UTC"
    assert format_datetime("2026-03-20T17:00:00") == "Friday 20 March 2026, 17:00"
    assert format_datetime("soon") == "soon"
    assert format_datetime(None) == ""


def _with_body(body: str) -> str:
    return MINIMAL.replace("<p>{{ comment }}</p>", body)


@pytest.mark.parametrize("body", [
    "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    "{% for i in range(200) %}{% for j in range(200) %}x{% endfor %}{% endfor %}",
    '{% if title == "never" %}{% for i in range(1000) %}{% for j in [1,2,3,4,5,6,7,8,9,10,11] %}x'
    "{% endfor %}{% endfor %}{% endif %}",
    "{% if false %}{{ range(-5, 99999999999999999999)|list }}{% endif %}",
])
def test_loops_over_the_iteration_limit_are_refused_at_save_in_any_branch(body):
    with pytest.raises(TemplateError, match=r"template_max_iterations") as caught:
        check_template("approved_to_manager", _with_body(body), SAMPLE_CONTEXT)
    assert caught.value.line == 4


@pytest.mark.parametrize("body", [
    "{% for a in title * 300 %}{% for b in title * 300 %}.{% endfor %}{% endfor %}",  # non-literal bounds
    "{% for i in range(comment|length * 1000) %}{% endfor %}",
    "{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(30) }}",
    "{% for i in range(10000) %}{% for j in range(10000) if false %}{% endfor %}{% endfor %}",
    "{% for x in [title * 300] recursive %}{{ loop(x) if x|length > 1 else '' }}{% endfor %}",
])
def test_loops_without_literal_bounds_stop_at_the_iteration_limit(body):
    with pytest.raises(TemplateError, match=r"more than 10000 .*template_max_iterations"):
        render_mail("approved_to_manager", SAMPLE_CONTEXT, {"approved_to_manager": _with_body(body)})


@pytest.mark.parametrize("expression", [
    '"x" * 1000000000',
    '["x" * 1000] * 1000000',
    '"x"|center(1000000000)',
    '"x".ljust(1000000000)',
    '"{:>1000000000}".format(1)',
    '"%1000000000d" % 1',
    '"%1000000000d"|format(1)',
    '("x" * 100000).replace("x", "xxx")',
    '[title * 10000, title * 10000, title * 10000, title * 10000]|join',
    '(title * 10000).join([title, title, title, title, title])',
    '[1]|slice(100000000)|list',
    '10 ** 1000000',
    '[title * 10000] * 3',
])
def test_expressions_building_huge_values_are_refused_before_they_are_built(expression):
    """Memory, not time, shows the value was never built: building any of them takes far more than the limit
    (256 KiB), and a wall-clock bound flakes on a busy machine."""
    tracemalloc.start()
    try:
        with pytest.raises(TemplateError, match="template_max_output_bytes"):
            check_template("approved_to_manager", _with_body(f"{{{{ {expression} }}}}"), SAMPLE_CONTEXT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * DEFAULT_LIMITS.max_output_bytes


def test_doubling_a_string_without_a_loop_is_refused():
    doubling = "{% set s = title %}" + "{% set s = s ~ s %}" * 40 + "{{ s|length }}"

    with pytest.raises(TemplateError, match=r"joined string \(~\).*template_max_output_bytes"):
        check_template("approved_to_manager", _with_body(doubling), SAMPLE_CONTEXT)


def test_output_over_the_size_limit_is_refused_naming_the_part():
    body = "{% for i in range(5000) %}{{ title }} {{ comment }}{% endfor %}"

    # only the size may stop it: a busy machine must not turn this into the time limit's refusal
    roomy = dataclasses.replace(DEFAULT_LIMITS, time_limit=60)

    with pytest.raises(TemplateError, match=r"the html part.*template_max_output_bytes"):
        check_template("approved_to_manager", _with_body(body), SAMPLE_CONTEXT, roomy)


def test_a_source_over_the_size_limit_is_refused():
    with pytest.raises(TemplateError, match="source is larger"):
        check_template("approved_to_manager", _with_body("x" * DEFAULT_LIMITS.max_output_bytes), SAMPLE_CONTEXT)


def test_loop_free_heavy_code_stops_at_the_time_limit():
    limits = TemplateLimits(max_iterations=10_000, max_output_bytes=256 * 1024, time_limit=0.2)
    heavy = "{% set numbers = range(10000)|list %}" + "{{ numbers|sort(reverse=true)|sum }}" * 2000
    started = time.monotonic()

    with pytest.raises(TemplateError, match=r"longer than 0.2 s \(script_time_limit\)"):
        render_mail("approved_to_manager", SAMPLE_CONTEXT, {"approved_to_manager": _with_body(heavy)}, limits)
    # unbounded, this render takes about 30 s; compiling the 2,000 expressions (before the clock applies) about
    # 1 s, which a busy machine stretches several times: 10 s tells the limit's stop from running to the end
    assert time.monotonic() - started < 10


def test_lipsum_is_not_available():
    with pytest.raises(TemplateError, match="'lipsum' is undefined"):
        check_template("approved_to_manager", _with_body("{{ lipsum(100000) }}"), SAMPLE_CONTEXT)


def test_ordinary_loops_filters_and_formatting_still_work():
    body = ('{% set ns = namespace(total=0) %}{% for id in registration_ids %}{% set ns.total = ns.total + id %}'
            '#{{ id }}{{ "," if not loop.last }}{% endfor %} = {{ ns.total }}; '
            '{{ "%s/%d"|format("a", 3) }} {{ "{}-{}".format(1, 2) }} {{ registration_ids|join("+") }} '
            '{{ title|truncate(12) }} {{ "ab" * 3 }} {{ 2 ** 10 }}'
            '{% for x in [[1, [2]], 3] recursive %}{{ loop(x) if x is iterable else x }}{% endfor %}')
    source = _with_body(f"<p>{body}</p>")

    check_template("approved_to_manager", source, SAMPLE_CONTEXT)
    html = render_mail("approved_to_manager", SAMPLE_CONTEXT, {"approved_to_manager": source}).html
    assert "#501,#502 = 1003; a/3 1-2 501+502 Boiler... ababab 1024123" in html
