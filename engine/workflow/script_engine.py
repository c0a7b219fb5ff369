"""Restricted script engine: BPMN scripts, conditions and timer expressions under RestrictedPython.

Customer managers write the BPMN, so its Python is untrusted: no imports, no '_' names, time limit.
"""

import ast
import functools
import operator
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import CodeType
from typing import Any

from RestrictedPython import (
    PrintCollector,
    RestrictingNodeTransformer,
    compile_restricted_eval,
    compile_restricted_exec,
)
from RestrictedPython.Guards import (
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr_raise,
)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.workflow.script_functions import make_script_functions

FILENAME = "<string>"  # SpiffWorkflow finds the failing script line by this frame name
MAX_ITEMS = 1_000_000  # longest str/list/tuple a script may build with `*`; longest range()
MAX_INT_BITS = 100_000  # largest int a script may build with `*`, `**` or `<<`


class ScriptTimeout(Exception):
    """A script or expression ran longer than its time limit."""


class ScriptNotAllowed(Exception):
    """A script or expression uses something the sandbox refuses (imports, '_' names, ...)."""


def _check_size(symbol: str, left: Any, right: Any) -> None:
    """Refuse `*`, `**` and `<<` with a huge result before Python builds it (in C, unstoppable)."""
    if isinstance(left, int) and isinstance(right, int):
        extra = right if symbol == "<<" else right.bit_length()
        bits = left.bit_length() * right if symbol == "**" else left.bit_length() + extra
        if bits > MAX_INT_BITS:
            raise ScriptNotAllowed(f"'{symbol}' would build an int over {MAX_INT_BITS} bits")
    elif symbol == "*":
        sequence, count = (left, right) if isinstance(right, int) else (right, left)
        sized = isinstance(sequence, str | bytes | list | tuple) and isinstance(count, int)
        if sized and len(sequence) * count > MAX_ITEMS:
            raise ScriptNotAllowed(f"'*' would build a sequence over {MAX_ITEMS} items")


_SIZED = {ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<"}
_BINARY = {"*": operator.mul, "**": operator.pow, "<<": operator.lshift}
_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow,
    "<<=": operator.ilshift, ">>=": operator.irshift, "&=": operator.iand,
    "|=": operator.ior, "^=": operator.ixor,
}  # fmt: skip


def _binop(symbol: str, left: Any, right: Any) -> Any:
    _check_size(symbol, left, right)
    return _BINARY[symbol](left, right)


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    _check_size(op[:-1], target, value)
    return _INPLACE[op](target, value)


def _getattr(obj: Any, name: str, *default: Any) -> Any:
    if isinstance(name, str) and name.startswith("_"):
        raise ScriptNotAllowed(f"names starting with '_' are not allowed: {name}")
    return safer_getattr_raise(obj, name, *default)


def _write(obj: Any) -> Any:
    if type(obj) in (dict, list, set):
        return obj
    raise ScriptNotAllowed(f"only dicts, lists and sets can be changed, not {type(obj).__name__}")


def _range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_ITEMS:
        raise ScriptNotAllowed(f"range() over {MAX_ITEMS} items is not allowed")
    return numbers


def _refuse(name: str) -> Callable:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise ScriptNotAllowed(f"{name}() is not allowed")

    return refused


_REFUSED = ("open", "eval", "exec", "compile", "type", "globals", "locals", "vars", "dir", "input",
            "breakpoint", "help", "memoryview", "object", "super", "setattr", "delattr",
            "__import__")
_ALLOWED = (len, min, max, sum, sorted, round, abs, any, all, enumerate, zip,
            str, int, float, bool, list, dict, set, tuple, isinstance)
# Left out: pow() (`**` is size-checked, pow isn't) and exceptions that `except Exception` in
# SpiffWorkflow and Celery would not catch (a script raising SystemExit could stop a worker).
_UNSAFE = {"pow", "BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit"}
_BUILTINS = {name: value for name, value in safe_builtins.items()
             if not name.startswith("_") and name not in _UNSAFE}
_BUILTINS.update({func.__name__: func for func in _ALLOWED})
_BUILTINS.update({name: _refuse(name) for name in _REFUSED})
_BUILTINS.update(range=_range, getattr=_getattr)
_GUARDS: dict[str, Any] = {
    "_getattr_": _getattr, "_getitem_": operator.getitem, "_getiter_": iter, "_write_": _write,
    "_inplacevar_": _inplacevar, "_binop_": _binop, "_print_": PrintCollector,
    "_apply_": lambda func, *args, **kwargs: func(*args, **kwargs),
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_deadline_": lambda: True,  # placeholder; each time-limited run installs its own check
}
_PROTECTED = {"__builtins__": _BUILTINS, **_GUARDS}  # applied last: task data never replaces these


class _ScriptPolicy(RestrictingNodeTransformer):
    """RestrictedPython's rules, plus: no imports or classes; size-checked `*`, `**`, `<<`; and a
    `_deadline_()` call first in every loop body, comprehension, function and lambda (so runaway
    loops and recursion stop) and every except/finally block (so a script can't swallow a timeout).
    """

    def check_name(self, node: Any, name: str | None, allow_magic_methods: bool = False) -> None:
        if name is not None and name.startswith("_") and name != "_":
            self.error(node, f"names starting with '_' are not allowed: {name}")
        else:
            super().check_name(node, name, allow_magic_methods)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        if node.attr.startswith("_"):
            self.error(node, f"names starting with '_' are not allowed: {node.attr}")
            return self.node_contents_visit(node)
        return super().visit_Attribute(node)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        self.error(node, "imports are not allowed")

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.error(node, "class definitions are not allowed")

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = super().visit_BinOp(node)
        if type(node.op) not in _SIZED:
            return node
        args = [ast.Constant(_SIZED[type(node.op)]), node.left, node.right]
        call = ast.Call(ast.Name("_binop_", ast.Load()), args, [])
        return ast.fix_missing_locations(ast.copy_location(call, node))

    def visit_While(self, node: ast.While) -> Any:
        return self._deadline_first(super().visit_While(node))

    def visit_For(self, node: ast.For) -> Any:
        return self._deadline_first(super().visit_For(node))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        return self._deadline_first(super().visit_FunctionDef(node))

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> Any:
        return self._deadline_first(super().visit_ExceptHandler(node))

    def visit_Try(self, node: ast.Try) -> Any:
        node = super().visit_Try(node)
        if node.finalbody:
            node.finalbody.insert(0, ast.copy_location(ast.Expr(self._deadline(node)), node))
        return node

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        node = super().visit_Lambda(node)
        checked = ast.BoolOp(ast.And(), [self._deadline(node), node.body])
        node.body = ast.copy_location(checked, node)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> Any:
        node = super().visit_comprehension(node)
        node.ifs.insert(0, self._deadline(node.iter))
        return node

    @staticmethod
    def _deadline(where: ast.AST) -> ast.expr:
        call = ast.Call(ast.Name("_deadline_", ast.Load()), [], [])
        return ast.fix_missing_locations(ast.copy_location(call, where))

    def _deadline_first(self, node: Any) -> Any:
        node.body.insert(0, ast.copy_location(ast.Expr(self._deadline(node)), node))
        return node


_MAY_LOOP = (ast.For, ast.While, ast.comprehension, ast.Lambda, ast.FunctionDef)


def _compile(source: str, mode: str) -> tuple[CodeType, bool]:
    """Compile restricted code; the flag says whether it may loop (and so needs a deadline)."""
    tree = ast.parse(source.strip() if mode == "eval" else source, FILENAME, mode)
    may_loop = any(isinstance(node, _MAY_LOOP) for node in ast.walk(tree))
    compile_restricted = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compile_restricted(tree, FILENAME, policy=_ScriptPolicy)
    if result.errors:
        raise ScriptNotAllowed("; ".join(result.errors))
    return result.code, may_loop


@functools.lru_cache(maxsize=1024)
def compile_expression(source: str) -> tuple[CodeType, bool]:
    """Compile and cache an expression. :raises SyntaxError, ScriptNotAllowed:"""
    return _compile(source, "eval")


@functools.lru_cache(maxsize=1024)
def compile_script(source: str) -> tuple[CodeType, bool]:
    """Compile and cache a script. :raises SyntaxError, ScriptNotAllowed:"""
    return _compile(source, "exec")


class RestrictedEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment semantics for task data; runs RestrictedPython code with a time limit."""

    def __init__(self, environment_globals: dict | None = None, time_limit: float = 1.0) -> None:
        super().__init__({**(environment_globals or {}), **_GUARDS})
        self.time_limit = time_limit

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        """Return the value of `expression`; as in TaskDataEnvironment, task data wins over globals.

        :raises ScriptNotAllowed, ScriptTimeout, SyntaxError: or whatever the expression raises.
        """
        code, may_loop = compile_expression(expression)
        namespace = {**self.globals, **(external_context or {}), **context, **_PROTECTED}
        if may_loop:
            return self._run_limited(code, namespace)
        # Safe: RestrictedPython-compiled code in a namespace whose guards were applied last.
        return eval(code, namespace)

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        """Run `script` with the task data as its variables, changing `context` in place.

        :raises ValueError: if task data would shadow an engine function.
        :raises ScriptNotAllowed, ScriptTimeout, SyntaxError: or whatever the script raises.
        """
        external_context = external_context or {}
        self.check_for_overwrite(context, external_context)
        code, _ = compile_script(script)
        context.update({**self.globals, **external_context, **_PROTECTED})
        try:
            self._run_limited(code, context)
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True

    def _run_limited(self, code: CodeType, namespace: dict) -> Any:
        # Loops, functions and handlers call _deadline_ (see _ScriptPolicy) instead of sys.settrace:
        # on 3.11 line events miss one-line loops (`while True: pass`), opcode tracing made a
        # 1000-step loop ~9x slower than these checks, and any tracer slows every instruction.
        limit = self.time_limit
        deadline = time.monotonic() + limit

        def deadline_check() -> bool:
            if time.monotonic() > deadline:
                raise ScriptTimeout(f"script ran longer than its time limit of {limit} s")
            return True  # True so it can guard comprehensions and lambdas: `_deadline_() and x`

        namespace["_deadline_"] = deadline_check
        return eval(code, namespace)  # safe: see evaluate()


class RestrictedScriptEngine(PythonScriptEngine):
    """SpiffWorkflow script engine running untrusted BPMN scripts in a RestrictedEnvironment."""

    def __init__(self, clock: Callable[[], datetime] | None = None,
                 functions: dict[str, Callable] | None = None, time_limit: float = 1.0) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))

        def engine_clock() -> datetime:
            return self.clock()  # looked up per call: the runtime (or a test) may swap self.clock

        helpers = make_script_functions(engine_clock)
        environment = RestrictedEnvironment({**helpers, **(functions or {})}, time_limit)
        super().__init__(environment=environment)

    def evaluate(self, task: Any, expression: str, external_context: dict | None = None) -> Any:
        """Evaluate `expression` on the task's data.

        :raises WorkflowTaskException: naming the cause, which the library's message leaves out.
        """
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as err:
            err.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as err:
            message = f"Error evaluating expression '{expression}': {type(err).__name__}: {err}"
            raise WorkflowTaskException(message, task=task, exception=err) from err

    def create_task_exec_exception(self, task: Any, script: str, err: Exception) -> Exception:
        """Wrap a script error; unlike 3.2.0, cope with non-string arguments such as KeyError(3)."""
        if isinstance(err, SpiffWorkflowException):
            return super().create_task_exec_exception(task, script, err)
        line_number, error_line = self.get_error_line_number_and_content(script, err)
        return WorkflowTaskException(f"{type(err).__name__}: {err}", task=task, exception=err,
                                     line_number=line_number, error_line=error_line)

    def call_service(self, task: Any, **kwargs: Any) -> str:
        """Refuse: the runtime dispatches service tasks (3.2.0's own version raises NameError)."""
        raise NotImplementedError("service tasks are dispatched by the runtime")
