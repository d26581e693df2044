"""Reading JSON that arrives from outside (request bodies, page cursors, webhook payloads).

`json.loads` accepts more than the rest of the runtime can handle: escaped lone surrogates
("\\ud800") that boto3 cannot encode for DynamoDB, NUL characters that would be stored and
handed to every downstream system, `1e999` (infinity), and nesting deep enough to raise
RecursionError. `loads` turns all of them into one `InvalidJson` (a ValueError) naming the
field, so callers answer 400 instead of failing later. No library covers these checks: they
are about what this runtime stores, not about JSON syntax.
"""

from __future__ import annotations

import json
import math

# The deepest route body (checkout: body -> shipping_address -> field) is 3 levels; webhook
# payloads from providers stay well under this.
MAX_DEPTH = 32


class InvalidJson(ValueError):
    def __init__(self, message: str, field: str | None = None,
                 code: str = "malformed_json") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def join_field(path: str, name: str | int) -> str:
    """`a.b[0].c`: the field notation of every 400 this API returns."""
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None. Lone surrogates are not Unicode scalar
    values (UTF-8 cannot encode them); NUL ends strings in C-based consumers."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text"
    return None


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> object:
    """Parse `raw`; raise InvalidJson unless every string, key and number can be stored."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        value = json.loads(text, parse_constant=_reject_constant)
    except (UnicodeError, ValueError, RecursionError):
        raise InvalidJson("Body is not valid JSON") from None
    # Iterative, so a document json accepted cannot exhaust the stack here either.
    stack: list[tuple[object, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                raise InvalidJson(f"{path or 'body'} {problem}", path or None, "invalid_text")
        elif isinstance(item, float) and not math.isfinite(item):
            raise InvalidJson(f"{path or 'body'} is out of range", path or None, "invalid_number")
        elif isinstance(item, (dict, list)):
            if depth > max_depth:
                raise InvalidJson(f"Body nests deeper than {max_depth} levels", path or None)
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for name, child in pairs:
                if isinstance(name, str) and text_problem(name):
                    raise InvalidJson(f"{path or 'body'} has an invalid property name", path or None,
                                      "invalid_text")
                stack.append((child, join_field(path, name), depth + 1))
    return value
