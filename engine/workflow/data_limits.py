"""Size and depth limits on an instance's variables, checked before they are saved.

A script can build data the serializer cannot save (a list nested 5,000 deep blows the recursion limit)
or should not (megabytes copied into every task of the tree). The walk is iterative, so checking a
hostile value never recurses, and it stops as soon as a limit is passed.
"""

from collections.abc import Mapping

_SCALAR_BYTES = 8  # a number, true/false/null as JSON, roughly


def variable_problem(data: Mapping, max_bytes: int, max_depth: int) -> str | None:
    """Why `data` (variable name → value) may not be saved, naming the variable; None when it fits.

    Sizes are JSON-sized estimates (strings by length, containers by their items), close enough for a limit.
    """
    total = 0
    for name, value in data.items():
        if isinstance(value, str):  # most variables: no walk needed (a task's data is checked many times a save)
            size, depth = len(value) + 2, 0
        elif value is None or isinstance(value, bool | float):
            size, depth = _SCALAR_BYTES, 0
        elif isinstance(value, int):  # ids: as _measure sizes an int, without its walk
            size, depth = value.bit_length() // 3 + 1, 0
        elif callable(value):
            continue  # engine functions in a task's data are not saved
        else:
            size, depth = _measure(value, max_bytes - total, max_depth)
        if depth > max_depth:
            return (f"variable {name!r} is nested deeper than {max_depth} levels "
                    "(setting SIGNOFF_DATA_MAX_DEPTH)")
        total += size + len(str(name)) + 4
        if total > max_bytes:
            return (f"variable {name!r} makes the instance data larger than {max_bytes} bytes "
                    "(setting SIGNOFF_DATA_MAX_KB)")
    return None


def _measure(value: object, budget: int, max_depth: int) -> tuple[int, int]:
    """(estimated JSON bytes, deepest nesting) of `value`, stopping early once either limit is passed."""
    size, deepest = 0, 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str | bytes):
            size += len(item) + 2
        elif isinstance(item, Mapping):
            deepest = max(deepest, depth)
            size += 2
            for key, child in item.items():
                size += len(str(key)) + 4
                stack.append((child, depth + 1))
        elif isinstance(item, list | tuple | set | frozenset):
            deepest = max(deepest, depth)
            size += 2 + len(item)
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, int) and not isinstance(item, bool):
            size += item.bit_length() // 3 + 1  # decimal digits, without building the string
        else:
            size += _SCALAR_BYTES
        if deepest > max_depth or size > budget:
            break
    return size, deepest
