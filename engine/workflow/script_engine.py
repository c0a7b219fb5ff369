"""Restricted script engine: BPMN scripts, conditions and timer expressions under RestrictedPython.

Customer managers write the BPMN, so its Python is untrusted: no imports, no '_' names, only whitelisted
builtins and methods (script_builtins), a time and a size limit (script_limits).
"""

import ast
import functools
from collections.abc import Callable
from datetime import UTC, datetime
from types import CodeType
from typing import Any

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.config import Settings
from engine.workflow.script_builtins import (
    BINARY,
    INPLACE,
    SCRIPT_BUILTINS,
    DiscardPrint,
    comparable,
    guarded_apply,
    guarded_getattr,
    guarded_getitem,
    guarded_getiter,
    guarded_write,
    searched,
)
from engine.workflow.script_functions import make_script_functions
from engine.workflow.script_limits import (
    FILENAME,
    ScriptNotAllowed,
    ScriptTimeout,
    ScriptTooLarge,
    check_operands,
    check_size,
    end_run,
    format_value,
    join_parts,
    max_size,
    percent_format,
    start_run,
    tick,
    too_large,
    weight,
)

__all__ = ["RestrictedEnvironment", "RestrictedScriptEngine", "ScriptNotAllowed", "ScriptTimeout",
           "ScriptTooLarge", "compile_expression", "compile_script"]


def _binop(symbol: str, left: Any, right: Any) -> Any:
    tick()
    if symbol == "%" and isinstance(left, str):
        return percent_format(left, right)
    check_operands(symbol, left, right)
    return check_size(f"'{symbol}'", BINARY[symbol](left, right))


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    tick()
    if op == "%=" and isinstance(target, str):
        return percent_format(target, value)
    check_operands(op[:-1], target, value)
    return check_size(f"'{op}'", INPLACE[op](target, value))


_GUARDS: dict[str, Any] = {
    "_getattr_": guarded_getattr, "_getitem_": guarded_getitem, "_getiter_": guarded_getiter,
    "_write_": guarded_write, "_inplacevar_": _inplacevar, "_binop_": _binop, "_print_": DiscardPrint,
    "_apply_": guarded_apply, "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence, "_deadline_": tick, "_compare_": comparable,
    "_searched_": searched, "_format_": format_value, "_join_parts_": join_parts,
}  # fmt: skip
_PROTECTED = {"__builtins__": SCRIPT_BUILTINS, **_GUARDS}  # applied last: task data never replaces these
_SYMBOLS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
    ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.MatMult: "@",
}  # fmt: skip
_SEARCHES = (ast.In, ast.NotIn)


def _call(name: str, args: list, where: ast.AST) -> ast.expr:
    call = ast.Call(ast.Name(name, ast.Load()), args, [])
    return ast.fix_missing_locations(ast.copy_location(call, where))


class _ScriptPolicy(RestrictingNodeTransformer):
    """RestrictedPython's rules, plus: no imports, classes, generators or `match`; every operator,
    comparison and f-string goes through a size-checking guard; and a `_deadline_()` call first in every
    loop body, comprehension, function and lambda (so runaway loops and recursion stop) and every
    except/finally block (so a script can't swallow a timeout).
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

    def visit_Yield(self, node: ast.Yield | ast.YieldFrom) -> None:
        self.error(node, "generators (yield) are not allowed")

    visit_YieldFrom = visit_Yield

    def visit_Match(self, node: ast.Match) -> None:
        self.error(node, "match statements are not allowed")

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = super().visit_BinOp(node)
        return _call("_binop_", [ast.Constant(_SYMBOLS[type(node.op)]), node.left, node.right], node)

    def visit_Compare(self, node: ast.Compare) -> Any:
        node = self.node_contents_visit(node)
        operands = [node.left, *node.comparators]
        for index, op in enumerate(node.ops):
            if isinstance(op, ast.Is | ast.IsNot):
                continue
            operands[index] = self._guarded_operand(operands[index], "_compare_")
            guard = "_searched_" if isinstance(op, _SEARCHES) else "_compare_"
            operands[index + 1] = self._guarded_operand(operands[index + 1], guard)
        node.left, node.comparators = operands[0], operands[1:]
        return node

    @staticmethod
    def _guarded_operand(operand: ast.expr, guard: str) -> ast.expr:
        if isinstance(operand, ast.Call) and isinstance(operand.func, ast.Name) and operand.func.id in (
                "_compare_", "_searched_"):
            if guard == "_compare_" or operand.func.id == guard:
                return operand
            operand = operand.args[0]  # both sides of `a in b < c`: weigh b once, as compared
        return _call(guard, [operand], operand)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> Any:
        node = self.node_contents_visit(node)
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                spec = value.format_spec if value.format_spec is not None else ast.Constant("")
                value = _call("_format_", [value.value, ast.Constant(value.conversion), spec], value)
            parts.append(value)
        return _call("_join_parts_", parts, node)

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
        return _call("_deadline_", [], where)

    def _deadline_first(self, node: Any) -> Any:
        node.body.insert(0, ast.copy_location(ast.Expr(self._deadline(node)), node))
        return node


MAX_SOURCE = 10_000  # characters of one script or expression: compiling is outside the time limit


def _compile(source: str, mode: str) -> CodeType:
    if len(source) > MAX_SOURCE:
        raise ScriptNotAllowed(f"scripts and expressions may have at most {MAX_SOURCE} characters, "
                               f"this one has {len(source)}")
    tree = ast.parse(source.strip() if mode == "eval" else source, FILENAME, mode)
    compile_restricted = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compile_restricted(tree, FILENAME, policy=_ScriptPolicy)
    if result.errors:
        raise ScriptNotAllowed("; ".join(result.errors))
    return result.code


@functools.lru_cache(maxsize=1024)
def compile_expression(source: str) -> CodeType:
    """Compile and cache an expression. :raises SyntaxError, ScriptNotAllowed:"""
    return _compile(source, "eval")


@functools.lru_cache(maxsize=1024)
def compile_script(source: str) -> CodeType:
    """Compile and cache a script. :raises SyntaxError, ScriptNotAllowed:"""
    return _compile(source, "exec")


def _raised_by_script(err: BaseException) -> bool:
    traceback = err.__traceback__
    while traceback is not None and traceback.tb_next is not None:
        traceback = traceback.tb_next
    return traceback is not None and traceback.tb_frame.f_code.co_filename == FILENAME


class RestrictedEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment semantics for task data; runs RestrictedPython code within a time and size limit."""

    def __init__(self, environment_globals: dict | None = None, time_limit: float = 1.0,
                 max_value_size: int = Settings.script_max_value_size) -> None:
        super().__init__({**(environment_globals or {}), **_GUARDS})
        self.time_limit = time_limit
        self.max_value_size = max_value_size

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        """Return the value of `expression`; as in TaskDataEnvironment, task data wins over globals.

        :raises ScriptNotAllowed, ScriptTimeout, SyntaxError: or whatever the expression raises.
        """
        code = compile_expression(expression)
        namespace = {**self.globals, **(external_context or {}), **context, **_PROTECTED}
        return self._run(code, namespace, lambda result: _check_variables({"the result": result}, {}))

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        """Run `script` with the task data as its variables, changing `context` in place.

        :raises ValueError: if task data would shadow an engine function.
        :raises ScriptNotAllowed, ScriptTimeout, SyntaxError: or whatever the script raises.
        """
        external_context = external_context or {}
        self.check_for_overwrite(context, external_context)
        code = compile_script(script)
        before = {name: weight(value, 64 * self.max_value_size) for name, value in context.items()}
        context.update({**self.globals, **external_context, **_PROTECTED})
        engine_names = {*self.globals, *external_context, *_PROTECTED}
        try:
            self._run(code, context, lambda _result: _check_variables(
                {name: value for name, value in context.items() if name not in engine_names}, before))
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True

    def _run(self, code: CodeType, namespace: dict, check: Callable[[Any], None]) -> Any:
        """Run restricted code under this environment's limits; whatever it raises reaches the caller as an
        ordinary Exception (a genuine KeyboardInterrupt, or a SystemExit from outside the script, passes).

        Guards call `tick` (see _ScriptPolicy and script_builtins) instead of sys.settrace: on 3.11 line
        events miss one-line loops (`while True: pass`), opcode tracing made a 1000-step loop ~9x slower
        than these checks, and any tracer slows every instruction.
        """
        token = start_run(self.time_limit, self.max_value_size)
        try:
            result = eval(code, namespace)  # safe: RestrictedPython code, guards applied last
            check(result)
            return result
        except Exception:
            raise
        except KeyboardInterrupt:
            raise
        except SystemExit as err:
            if not _raised_by_script(err):
                raise
            raise ScriptNotAllowed(f"scripts may not raise {type(err).__name__}") from None
        except BaseException as err:
            raise ScriptNotAllowed(f"scripts may not raise {type(err).__name__}") from None
        finally:
            end_run(token)


def _check_variables(variables: dict, before: dict[str, int]) -> None:
    """Refuse a variable that ends up holding more than the limit (or than it held before the script)."""
    for name, value in variables.items():
        allowed = max(max_size(), before.get(name, 0))
        if weight(value, allowed) > allowed:
            raise too_large(f"variable {name!r}", "characters and items in all")


class RestrictedScriptEngine(PythonScriptEngine):
    """SpiffWorkflow script engine running untrusted BPMN scripts in a RestrictedEnvironment."""

    def __init__(self, clock: Callable[[], datetime] | None = None,
                 functions: dict[str, Callable] | None = None, time_limit: float = 1.0,
                 max_value_size: int = Settings.script_max_value_size) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))

        def engine_clock() -> datetime:
            return self.clock()  # looked up per call: the runtime (or a test) may swap self.clock

        helpers = make_script_functions(engine_clock)
        environment = RestrictedEnvironment({**helpers, **(functions or {})}, time_limit, max_value_size)
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
