"""What a BPMN script can reach: a whitelist of builtins, of methods per type, and guarded writes.

Everything else is refused, so no path leads to `type`, `object`, `BaseException` or a frame:
no attribute of a type, function, generator or exception (but `args`) is reachable, whatever its name.
Builtins and methods that can grow a value check the size limit before building it.
"""

import builtins
import operator
from collections.abc import Callable
from typing import Any

from engine.workflow.script_limits import (
    ScriptNotAllowed,
    bounded_list,
    check_size,
    check_weight,
    max_size,
    tick,
    too_large,
)


class Constructor:
    """A guarded stand-in for a type (`str`, `list`, ...): calls are size-checked, `isinstance` sees the type."""

    __slots__ = ("kind", "build")

    def __init__(self, kind: type, build: Callable) -> None:
        self.kind, self.build = kind, build

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        tick()
        return check_size(f"{self.kind.__name__}()", self.build(*args, **kwargs))

    def __repr__(self) -> str:
        return f"<class '{self.kind.__name__}'>"


def _types(classes: Any) -> Any:
    if isinstance(classes, tuple):
        return tuple(_types(item) for item in classes)
    return classes.kind if isinstance(classes, Constructor) else classes


def _isinstance(value: Any, classes: Any) -> bool:
    return isinstance(value, _types(classes))


def _issubclass(value: Any, classes: Any) -> bool:
    return issubclass(_types(value), _types(classes))


def _from_iterable(kind: type) -> Callable:
    def build(iterable: Any = (), /) -> Any:
        return check_weight(f"{kind.__name__}()", kind(bounded_list(f"{kind.__name__}()", iterable)))
    return build


def _dict(*args: Any, **kwargs: Any) -> dict:
    source = args[0] if args else ()
    items = source.items() if isinstance(source, dict) else source
    result = dict(bounded_list("dict()", items), **kwargs)
    return check_weight("dict()", result)


def _str(*args: Any, **kwargs: Any) -> str:
    if args:
        check_weight("str()", args[0])
    return str(*args, **kwargs)


def _repr(value: Any) -> str:
    return check_size("repr()", repr(check_weight("repr()", value)))


def _sorted(iterable: Any, /, *, key: Callable | None = None, reverse: bool = False) -> list:
    items = check_weight("sorted()", bounded_list("sorted()", iterable))
    items.sort(key=key, reverse=reverse)
    return items


def _extreme(pick: Callable) -> Callable:
    def guarded(*args: Any, **kwargs: Any) -> Any:
        what = f"{pick.__name__}()"
        items = bounded_list(what, args[0]) if len(args) == 1 else list(args)
        return pick(check_weight(what, items), **kwargs)
    return guarded


def _sum(iterable: Any, /, start: Any = 0) -> Any:
    items = bounded_list("sum()", iterable)
    if not all(isinstance(item, int | float) for item in [start, *items]):
        raise ScriptNotAllowed("sum() adds numbers only (use ''.join() for strings)")
    return sum(items, start)


def _range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > max_size():
        raise too_large("range()")
    return numbers


def _round(number: Any, ndigits: int | None = None) -> Any:
    if ndigits is not None and abs(ndigits) > 100:
        raise ScriptNotAllowed("round() takes ndigits between -100 and 100")
    return round(number, ndigits)


def guarded_getattr(obj: Any, name: Any, *default: Any) -> Any:
    """`obj.name` for the whitelisted methods of plain data; the `_getattr_` guard and `getattr()`."""
    tick()
    if not isinstance(name, str):
        raise ScriptNotAllowed("attribute names must be strings")
    if name.startswith("_"):
        raise ScriptNotAllowed(f"names starting with '_' are not allowed: {name}")
    allowed = _METHODS.get(type(obj))
    if allowed is None and isinstance(obj, BaseException):
        allowed = {"args": None}
    if allowed is None or name not in allowed:
        if default:
            return default[0]
        raise ScriptNotAllowed(f"'{_kind(obj)}.{name}' is not available in scripts")
    wrap = allowed[name]
    value = getattr(obj, name)
    return wrap(obj, value) if wrap else value


def _kind(obj: Any) -> str:
    return obj.__name__ if isinstance(obj, type) else type(obj).__name__


def _checked(before: Callable | None = None) -> Callable:
    """Wrap a method: deadline, an optional check or rewrite of its arguments, then the size of the result
    and of its (possibly grown) object."""
    def wrap(obj: Any, method: Callable) -> Callable:
        what = f"{type(obj).__name__}.{method.__name__}()"

        def call(*args: Any, **kwargs: Any) -> Any:
            tick()
            if before is not None:
                args = before(what, obj, *args, **kwargs) or args
            result = method(*args, **kwargs)
            check_size(what, obj)
            return check_size(what, result)
        return call
    return wrap


def _room_for_one(what: str, obj: Any, *args: Any, **_kwargs: Any) -> None:
    if len(obj) >= max_size():
        raise too_large(what)


def _bounded_args(what: str, obj: Any, *args: Any, **_kwargs: Any) -> tuple:
    """Iterables as bounded lists; a list's room is what is left to the limit (sets and dicts, whose
    growth depends on overlaps, are refused after the call, at most twice the limit)."""
    room = max_size() - len(obj) if isinstance(obj, list) else None
    return tuple(arg if isinstance(arg, dict) else bounded_list(what, arg, room) for arg in args)


def _width(what: str, obj: str, width: int, *_args: Any, **_kwargs: Any) -> None:
    if width > max_size():
        raise too_large(what)


def _join(what: str, sep: str, iterable: Any, /) -> tuple:
    items = bounded_list(what, iterable)
    parts = sum(len(item) for item in items if isinstance(item, str))
    if parts + len(sep) * max(len(items) - 1, 0) > max_size():
        raise too_large(what)
    return (items,)


def _replace(what: str, text: str, old: str, new: str, count: int = -1, /) -> None:
    found = text.count(old) if old else len(text) + 1
    found = found if count < 0 else min(found, count)
    if len(text) + found * (len(new) - len(old)) > max_size():
        raise too_large(what)


def _expandtabs(what: str, text: str, tabsize: int = 8, /) -> None:
    if len(text) + text.count("\t") * max(tabsize, 0) > max_size():
        raise too_large(what)


def _compared(what: str, obj: Any, *args: Any, **_kwargs: Any) -> None:
    check_weight(what, obj)
    for arg in args:
        check_weight(what, arg)


_PLAIN = _checked()
_STR_METHODS = (
    "capitalize casefold count endswith find index isalnum isalpha isascii isdecimal isdigit isidentifier "
    "islower isnumeric isspace istitle isupper lower lstrip partition removeprefix removesuffix rfind rindex "
    "rpartition rsplit rstrip split splitlines startswith strip swapcase title upper"
)
_METHODS: dict[type, dict[str, Callable | None]] = {
    str: {name: _PLAIN for name in _STR_METHODS.split()} | {
        "join": _checked(_join), "replace": _checked(_replace), "expandtabs": _checked(_expandtabs),
        **{name: _checked(_width) for name in ("center", "ljust", "rjust", "zfill")},
    },
    list: {
        "append": _checked(_room_for_one), "insert": _checked(_room_for_one), "extend": _checked(_bounded_args),
        "index": _checked(_compared), "count": _checked(_compared), "remove": _checked(_compared),
        "sort": _checked(_compared), "pop": _PLAIN, "copy": _PLAIN, "clear": _PLAIN, "reverse": _PLAIN,
    },
    tuple: {"index": _checked(_compared), "count": _checked(_compared)},
    dict: {
        **{name: _PLAIN for name in ("get", "keys", "values", "items", "pop", "popitem", "copy", "clear")},
        "setdefault": _checked(_room_for_one), "update": _checked(_bounded_args),
    },
    set: {
        **{name: _PLAIN for name in ("discard", "remove", "pop", "clear", "copy", "issubset", "issuperset",
                                     "isdisjoint")},
        "add": _checked(_room_for_one),
        **{name: _checked(_bounded_args) for name in (
            "update", "union", "intersection", "difference", "symmetric_difference", "intersection_update",
            "difference_update", "symmetric_difference_update")},
    },
    int: {"bit_length": None},
    bool: {"bit_length": None},
    float: {"is_integer": None},
}  # fmt: skip


class _Writable:
    """What `_write_` hands out for `x[k] = v` and `del x[k]`: item writes that can't grow past the limit."""

    __slots__ = ("target",)

    def __init__(self, target: Any) -> None:
        object.__setattr__(self, "target", target)

    def __setitem__(self, key: Any, value: Any) -> None:
        tick()
        target = self.target
        if isinstance(target, list) and isinstance(key, slice):
            value = bounded_list("a slice assignment", value)
            if len(target) - len(range(*key.indices(len(target)))) + len(value) > max_size():
                raise too_large("a slice assignment")
        elif isinstance(target, dict) and len(target) >= max_size() and key not in target:
            raise too_large("an item assignment")
        target[key] = value

    def __delitem__(self, key: Any) -> None:
        tick()
        del self.target[key]

    def __setattr__(self, name: str, value: Any) -> None:
        raise ScriptNotAllowed(f"attributes cannot be set: {name}")


def guarded_write(obj: Any) -> Any:
    """The `_write_` guard: only dicts, lists and sets can be changed, within the size limit."""
    if type(obj) in (dict, list, set):
        return _Writable(obj)
    raise ScriptNotAllowed(f"only dicts, lists and sets can be changed, not {type(obj).__name__}")


def refused(name: str) -> Callable:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ScriptNotAllowed(f"{name}() is not allowed")
    return refuse


def _ticking(function: Callable) -> Callable:
    def call(*args: Any, **kwargs: Any) -> Any:
        tick()
        return function(*args, **kwargs)
    call.__name__ = function.__name__
    return call


_REFUSED = ("open", "eval", "exec", "compile", "type", "globals", "locals", "vars", "dir", "input",
            "breakpoint", "help", "memoryview", "object", "super", "setattr", "delattr", "hasattr", "pow",
            "bytes", "bytearray", "format", "hash", "id", "iter", "next", "complex", "classmethod",
            "staticmethod", "property", "exit", "quit")
# Left out on purpose: exceptions that `except Exception` would not catch (a script raising SystemExit
# could stop a worker), and pow() (three-argument pow runs for minutes on ints within the size limit).
_EXCEPTIONS = {name: value for name, value in vars(builtins).items()
               if isinstance(value, type) and issubclass(value, Exception) and not name.startswith("_")}
_PLAIN_FUNCTIONS = (len, abs, chr, ord, divmod, hex, oct, callable, any, all, enumerate, zip,
                    reversed)
SCRIPT_BUILTINS: dict[str, Any] = {
    **_EXCEPTIONS,
    **{name: refused(name) for name in _REFUSED},
    **{function.__name__: function for function in _PLAIN_FUNCTIONS},
    "None": None, "True": True, "False": False,
    "str": Constructor(str, _str), "int": Constructor(int, int),
    "list": Constructor(list, _from_iterable(list)), "tuple": Constructor(tuple, _from_iterable(tuple)),
    "set": Constructor(set, _from_iterable(set)), "frozenset": Constructor(frozenset, _from_iterable(frozenset)),
    "dict": Constructor(dict, _dict),
    "isinstance": _isinstance, "issubclass": _issubclass, "repr": _repr, "sorted": _sorted,
    "min": _extreme(min), "max": _extreme(max), "sum": _sum, "range": _range, "round": _round,
    "getattr": guarded_getattr,
}  # fmt: skip
SCRIPT_BUILTINS.update({name: _ticking(value) for name, value in SCRIPT_BUILTINS.items()
                        if callable(value) and not isinstance(value, type | Constructor)
                        and name not in _REFUSED})  # fmt: skip
# bool and float stay the types themselves (isinstance(x, float) works), but `float.fromhex` etc.
# are unreachable: no attribute of a type is.
SCRIPT_BUILTINS.update(bool=bool, float=float)


def guarded_getitem(obj: Any, key: Any) -> Any:
    tick()
    return obj[key]


def guarded_getiter(obj: Any) -> Any:
    tick()
    return iter(obj)


def guarded_apply(function: Callable, *args: Any, **kwargs: Any) -> Any:
    tick()
    return function(*args, **kwargs)


def comparable(value: Any) -> Any:
    """An operand of `==`, `<`, `in` ...: containers are weighed, since comparing them is done in C."""
    tick()
    if isinstance(value, list | tuple | dict | set | frozenset):
        check_weight("a comparison", value)
    return value


def searched(value: Any) -> Any:
    """The right side of `in`: a dict or set is a hash lookup (only the left side is weighed)."""
    return value if isinstance(value, dict | set | frozenset) else comparable(value)


class DiscardPrint:
    """The `_print_` collector: print() is allowed in scripts, its output is discarded (not even built)."""

    def __init__(self, _getattr_: Any = None) -> None:
        pass

    def _call_print(self, *objects: Any, **kwargs: Any) -> None:
        tick()

    def __call__(self) -> str:
        return ""


BINARY = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "//": operator.floordiv,
    "%": operator.mod, "**": operator.pow, "<<": operator.lshift, ">>": operator.rshift, "&": operator.and_,
    "|": operator.or_, "^": operator.xor, "@": operator.matmul,
}  # fmt: skip
INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
    "@=": operator.imatmul,
}  # fmt: skip
