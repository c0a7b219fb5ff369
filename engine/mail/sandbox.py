"""Jinja2's immutable sandbox with every rendering bounded: loop iterations, the size of what it builds, time.

A render runs under a `RenderBudget` (`with bounded(limits):`). The environment charges it at each place a
template can spend: every item a `for` loop takes, every call (macros count as iterations), every filter,
the operators that build values (`*`, `**`, `+`, `%`, `~`) and every `{{ … }}` output. Values are sized
before they are built, so `"x" * 10**9` is refused instead of allocated; a template over a bound stops with
`LimitExceeded` at the step that crossed it, whether or not it loops.
"""

import re
import string
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace, _PassArg

from engine.config import Settings


@dataclass(frozen=True)
class TemplateLimits:
    max_iterations: int  # for-loop items and macro calls, over all parts of one mail
    max_output_bytes: int  # one rendered part (subject, text or HTML), and any value built on the way
    time_limit: float  # seconds of wall clock for one mail

    @classmethod
    def from_settings(cls, settings: Settings) -> "TemplateLimits":
        return cls(settings.template_max_iterations, settings.template_max_output_bytes, settings.script_time_limit)


DEFAULT_LIMITS = TemplateLimits.from_settings(Settings())


class LimitExceeded(Exception):
    """A rendering went over one of its `TemplateLimits`; the message names the limit and its setting."""


class RenderBudget:
    """What one rendering may still spend; charged by the environment's hooks."""

    def __init__(self, limits: TemplateLimits):
        self.limits = limits
        self.iterations = 0
        self.deadline = time.monotonic() + limits.time_limit

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded(f"rendering took longer than {self.limits.time_limit:g} s (script_time_limit)")

    def iterate(self) -> None:
        self.iterations += 1
        if self.iterations > self.limits.max_iterations:
            raise LimitExceeded(f"more than {self.limits.max_iterations} loop iterations or macro calls "
                                "(template_max_iterations)")
        self.tick()

    def check_size(self, size: int, what: str) -> None:
        if size > self.limits.max_output_bytes:
            raise LimitExceeded(f"{what} would be larger than {self.limits.max_output_bytes} bytes "
                                "(template_max_output_bytes)")

    def check_value(self, value: Any, what: str) -> None:
        self.check_size(weight(value, self.limits.max_output_bytes), what)


_budget: ContextVar[RenderBudget] = ContextVar("template_render_budget")


@contextmanager
def bounded(limits: TemplateLimits) -> Iterator[RenderBudget]:
    """Run the renderings inside the block under one budget of `limits`."""
    token = _budget.set(RenderBudget(limits))
    try:
        yield _budget.get()
    finally:
        _budget.reset(token)


def current_budget() -> RenderBudget:
    """The budget of the render under way. :raises LimitExceeded: called outside `bounded()`."""
    try:
        return _budget.get()
    except LookupError:
        raise LimitExceeded("an e-mail template was rendered without limits") from None


def weight(value: Any, limit: int) -> int:
    """About how many characters `value` takes as text; stops counting once past `limit`, so it is cheap."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, bool | float | None):
            total += 8
        elif isinstance(item, int):
            total += item.bit_length() * 3 // 10 + 1
        elif isinstance(item, list | tuple | set | frozenset | dict | Namespace):
            items = object.__getattribute__(item, "_Namespace__attrs") if isinstance(item, Namespace) else item
            total += 2 + 2 * len(items)
            if total <= limit:
                stack.extend(items)
                if isinstance(items, dict):
                    stack.extend(items.values())
        else:
            total += 16  # generators, ranges, undefined: their text is short
    return total


def output(chunks: Iterable[str], part: str) -> str:
    """Join a template's output chunks, refusing as soon as the part grows past its size limit."""
    budget = current_budget()
    parts, size = [], 0
    for chunk in chunks:
        size += len(chunk.encode("utf-8", "surrogatepass"))
        budget.check_size(size, f"the {part} part")
        parts.append(chunk)
    return "".join(parts)


def bounded_range(*args: int) -> range:
    """`range()` for templates: at most `template_max_iterations` numbers."""
    numbers = range(*args)
    limit = current_budget().limits.max_iterations
    if range_length(numbers) > limit:
        raise LimitExceeded(f"range() of more than {limit} numbers (template_max_iterations)")
    return numbers


def range_length(numbers: range) -> int:
    """len(numbers), also past sys.maxsize (where len() raises OverflowError)."""
    sign = 1 if numbers.step > 0 else -1
    return max(0, (numbers.stop - numbers.start + numbers.step - sign) // numbers.step)


# --- sizes of what an operation would build, estimated before it is built ---------------------------------

_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?([a-zA-Z%])")


def _printf_size(fmt: str, args: Any, limit: int) -> int:
    specs = _PRINTF.findall(fmt)
    if any("*" in (width, precision) for width, precision, _ in specs):
        raise LimitExceeded("'*' widths in a %-format are not allowed")
    widths = sum(int(width or 0) + int(precision or 0) for width, precision, _ in specs)
    return len(fmt) + widths + len(specs) * weight(args, limit)


def _format_size(fmt: str, args: Any, limit: int) -> int:
    fields = [(spec or "") for _, field, spec, _ in string.Formatter().parse(fmt) if field is not None]
    if any("{" in spec for spec in fields):
        raise LimitExceeded("nested fields in a format spec are not allowed")
    widths = sum(int(number) for spec in fields for number in re.findall(r"\d+", spec))
    return len(fmt) + widths + len(fields) * weight(args, limit)


def _product_size(left: Any, right: Any, limit: int) -> int:
    if isinstance(left, int) and not isinstance(right, int):
        left, right = right, left
    if isinstance(right, int) and isinstance(left, str | list | tuple):
        return weight(left, limit) * max(right, 0)
    return weight(left, limit) + weight(right, limit)


def _power_size(base: Any, exponent: Any) -> int:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        return max(abs(base).bit_length() - 1, 1) * exponent * 3 // 10
    return 0


def _join_size(separator: str, items: list, limit: int) -> int:
    return len(separator) * max(len(items) - 1, 0) + weight(items, limit)


def _replace_size(text: Any, old: Any, new: Any, *_: Any) -> int:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        return len(text) + (text.count(old) if old else len(text) + 1) * max(len(new) - len(old), 0)
    return 0


def _width(text: Any, width: Any = 0, *_: Any, **__: Any) -> int:
    return max(len(str(text)), width if isinstance(width, int) else 0)


def _indent_size(text: Any, width: Any = 4, *_: Any, **__: Any) -> int:
    prefix = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    return len(str(text)) + (str(text).count("\n") + 1) * prefix


def _count_arg(_: Any, count: Any = 0, *__: Any, **___: Any) -> int:
    return count if isinstance(count, int) else 0  # batch(linecount), slice(slices): lists of that many


# Estimated result size of str methods (receiver, *args) and filters (value, *args) that can grow their input.
_METHOD_SIZES: dict[str, Callable[..., int]] = {
    "center": _width, "ljust": _width, "rjust": _width, "zfill": _width, "replace": _replace_size,
    "expandtabs": lambda text, tabsize=8, *_: len(text) + text.count("\t") * (tabsize if isinstance(tabsize, int)
                                                                               else 0),
}
_FILTER_SIZES: dict[str, Callable[..., int]] = {
    "center": _width, "indent": _indent_size, "replace": _replace_size, "batch": _count_arg, "slice": _count_arg,
}


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles every `for` loop's iterable through `count_iterations` and every `~` through a size check."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._loop_iterables: set[int] = set()  # ids of the nodes to wrap (Jinja allows no custom node types)

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        self._loop_iterables.add(id(node.iter))
        super().visit_For(node, frame)

    def visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        if id(node) not in self._loop_iterables:
            return super().visit(node, *args, **kwargs)
        self._loop_iterables.discard(id(node))
        self.write("environment.count_iterations(")
        super().visit(node, *args, **kwargs)
        self.write(")")
        return None

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        # as CodeGenerator.visit_Concat, with the parts sized before they are joined
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            func_name = "markup_join"
        else:
            func_name = "str_join"
        self.write(f"{func_name}(environment.checked_parts((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(")))")


_CONTEXT_KWARGS = ("_loop_vars", "_block_vars")  # the template's local variables, passed along by Jinja


class BoundedSandboxedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox, charging a `RenderBudget` at every loop item, call, filter, operator and output."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any):
        # optimized=False: the optimizer would run constant filters and operators at compile time, unbudgeted
        super().__init__(optimized=False, finalize=self._finalize, **options)
        self.globals.pop("lipsum")  # lipsum(n) writes n paragraphs
        self.globals["range"] = bounded_range
        self.filters = {name: _bounded_filter(name, func) for name, func in self.filters.items()}

    def add_filters(self, **filters: Callable[..., Any]) -> None:
        self.filters.update({name: _bounded_filter(name, func) for name, func in filters.items()})

    @staticmethod
    def count_iterations(iterable: Iterable[Any]) -> Iterator[Any]:
        budget = current_budget()
        for item in iterable:
            budget.iterate()
            yield item

    @staticmethod
    def checked_parts(parts: tuple) -> tuple:
        current_budget().check_value(parts, "a joined string (~)")
        return parts

    @staticmethod
    def _finalize(value: Any) -> Any:
        current_budget().check_value(value, "an output value")
        return value

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = current_budget()
        if isinstance(__obj, Macro):
            budget.iterate()
        elif isinstance(__obj, LoopContext) and args:  # loop(children) in a recursive loop
            args = (__self.count_iterations(args[0]), *args[1:])
        else:
            budget.tick()
        limit = budget.limits.max_output_bytes
        kwargs_given = {key: value for key, value in kwargs.items() if key not in _CONTEXT_KWARGS}
        receiver = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(receiver, str) and name == "join" and args:
            items = list(args[0])
            budget.check_size(_join_size(receiver, items, limit), "the result of join()")
            args = (items, *args[1:])
        elif isinstance(receiver, str) and name in _METHOD_SIZES:
            budget.check_size(_METHOD_SIZES[name](receiver, *args, **kwargs_given), f"the result of {name}()")
        else:
            budget.check_value((args, kwargs_given), f"the arguments of {name or 'a call'}()")
        result = super().call(__context, __obj, *args, **kwargs)
        budget.check_value(result, f"the result of {name or 'a call'}()")
        return result

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        budget = current_budget()
        budget.tick()
        limit = budget.limits.max_output_bytes
        if operator == "**":
            budget.check_size(_power_size(left, right), "the result of **")
        elif operator == "*":
            budget.check_size(_product_size(left, right, limit), "the result of *")
        elif operator == "%" and isinstance(left, str):
            budget.check_size(_printf_size(left, right, limit), "the result of %")
        else:
            budget.check_size(weight(left, limit) + weight(right, limit), f"the result of {operator}")
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None
        fmt: str = value.__self__

        @wraps(wrapper)
        def checked(*args: Any, **kwargs: Any) -> str:
            budget = current_budget()
            budget.check_size(_format_size(fmt, (args, kwargs), budget.limits.max_output_bytes),
                              f"the result of {value.__name__}()")
            return wrapper(*args, **kwargs)

        return checked


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """`func` charged to the budget: its input sized before, its result after (growing filters estimated first)."""
    skip = 1 if _PassArg.from_obj(func) is not None else 0  # context, eval context or environment comes first

    @wraps(func)
    def bounded_filter(*args: Any, **kwargs: Any) -> Any:
        budget = current_budget()
        budget.tick()
        limit = budget.limits.max_output_bytes
        values = args[skip:]
        if name == "join" and values:
            items = list(values[0])
            budget.check_size(_join_size(str(values[1]) if len(values) > 1 else "", items, limit),
                              "the result of |join")
            args = (*args[:skip], items, *values[1:])
        elif name == "format" and values and isinstance(values[0], str):
            budget.check_size(_printf_size(values[0], (values[1:], kwargs), limit), "the result of |format")
        elif name in _FILTER_SIZES and values:
            budget.check_size(_FILTER_SIZES[name](*values, **kwargs), f"the result of |{name}")
        else:
            budget.check_value((values, kwargs), f"the input of |{name}")
        result = func(*args, **kwargs)
        budget.check_value(result, f"the result of |{name}")
        return result

    return bounded_filter


# --- refused at save, without rendering: loops whose literal bounds are over the limit -----------------------


def literal_loop_problem(tree: nodes.Template, max_iterations: int) -> tuple[int, str] | None:
    """(line, message) for the first `range()` or nest of `for` loops whose literal sizes exceed `max_iterations`.

    Only literal bounds are known before rendering; anything else is left to the budget at render time.
    """
    return _first_problem(tree, (), max_iterations)


def _first_problem(node: nodes.Node, counts: tuple[int, ...], limit: int) -> tuple[int, str] | None:
    """Walk `node`, carrying the literal sizes of the loops around it (`counts`)."""
    count = _literal_count(node) if _is_range_call(node) else None
    if count is not None and count > limit:
        return node.lineno, f"range() of {count} numbers, more than {limit} (template_max_iterations)"
    children = [(child, counts) for child in node.iter_child_nodes()]
    if isinstance(node, nodes.For):
        count = _literal_count(node.iter)
        inner = (*counts, count) if count is not None else counts
        if _product(inner) > limit:
            sizes = " × ".join(str(n) for n in inner)
            return node.lineno, (f"{'nested loops' if len(inner) > 1 else 'a loop'} of {sizes} iterations, "
                                 f"more than {limit} (template_max_iterations)")
        children = [(node.iter, counts), *((child, inner) for child in [*node.body, node.test] if child),
                    *((child, counts) for child in node.else_)]
    for child, child_counts in children:
        problem = _first_problem(child, child_counts, limit)
        if problem:
            return problem
    return None


def _is_range_call(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name == "range"


def _literal_count(node: nodes.Node) -> int | None:
    """How many items a literal iterable has (range() of literal numbers, a list or tuple literal), else None."""
    if isinstance(node, nodes.List | nodes.Tuple):
        return len(node.items)
    if not _is_range_call(node) or node.kwargs or node.dyn_args or node.dyn_kwargs:
        return None
    numbers = [_literal_int(arg) for arg in node.args]
    if not numbers or None in numbers:
        return None
    try:
        return range_length(range(*numbers))
    except (TypeError, ValueError):
        return None


def _literal_int(node: nodes.Node) -> int | None:
    if isinstance(node, nodes.Neg):
        value = _literal_int(node.node)
        return -value if value is not None else None
    if isinstance(node, nodes.Const) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    return None


def _product(counts: tuple[int, ...]) -> int:
    total = 1
    for count in counts:
        total *= count
    return total
