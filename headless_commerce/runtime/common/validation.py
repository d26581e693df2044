"""Validator for the JSON Schema (draft 4) subset the route schemas use.

jsonschema is not shipped to Lambda, so this covers exactly: type, required, properties,
additionalProperties (false or a schema), minimum/maximum, minLength/maxLength, pattern, enum,
items, minItems/maxItems (plus the annotations $schema, title, description). The same validator
checks the event contracts (runtime/events/contracts.py). tests/runtime checks it agrees with
jsonschema's Draft4Validator.
It reports the first problem with a dotted field path a client can show next to an input.
"""

from __future__ import annotations

import re
from functools import lru_cache

from headless_commerce.runtime.common.errors import ApiError

SUPPORTED_KEYWORDS = frozenset({
    "type", "required", "properties", "additionalProperties", "minimum", "maximum",
    "minLength", "maxLength", "pattern", "enum", "items", "minItems", "maxItems",
    "description", "title", "$schema",
})


def _is_type(value: object, name: str) -> bool:
    # bool is a subclass of int in Python but not a JSON number.
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "null":
        return value is None
    raise ValueError(f"unsupported type {name!r}")


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _join(path: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name


def _enum_equal(a: object, b: object) -> bool:
    # JSON equality: true != 1, 1 == 1.0.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def first_error(schema: dict, value: object, path: str = "") -> tuple[str | None, str] | None:
    """Return (field, message) of the first violation, or None when valid."""
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else types
        if not any(_is_type(value, n) for n in names):
            return path or None, f"must be of type {' or '.join(names)}"
    if "enum" in schema and not any(_enum_equal(value, option) for option in schema["enum"]):
        return path or None, "must be one of " + ", ".join(map(str, schema["enum"]))
    if isinstance(value, str):
        # JSON Schema counts code points, as len() does.
        if "minLength" in schema and len(value) < schema["minLength"]:
            return path or None, f"must be at least {schema['minLength']} characters"
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return path or None, f"must be at most {schema['maxLength']} characters"
        if "pattern" in schema and not _compiled(schema["pattern"]).search(value):
            return path or None, "has an invalid format"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return path or None, f"must be at least {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return path or None, f"must be at most {schema['maximum']}"
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            return path or None, f"must have at least {schema['minItems']} items"
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            return path or None, f"must have at most {schema['maxItems']} items"
        if isinstance(schema.get("items"), dict):
            for index, item in enumerate(value):
                error = first_error(schema["items"], item, _join(path, index))
                if error:
                    return error
    if isinstance(value, dict):
        for name in schema.get("required", ()):
            if name not in value:
                return _join(path, name), "is required"
        properties = schema.get("properties", {})
        additional = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in properties:
                error = first_error(properties[name], item, _join(path, name))
            elif additional is False:
                return _join(path, name), "is not an allowed property"
            elif isinstance(additional, dict):
                error = first_error(additional, item, _join(path, name))
            else:
                error = None
            if error:
                return error
    return None


def validate(schema: dict, value: object) -> None:
    """Raise a 400 ApiError naming the offending field."""
    error = first_error(schema, value)
    if error:
        field, message = error
        label = field or "body"
        raise ApiError(400, "validation_error", f"{label} {message}", field)


def unsupported_keywords(schema: object) -> set[str]:
    """Keywords the validator would silently ignore; tests require this to be empty."""
    found: set[str] = set()
    if isinstance(schema, dict):
        found |= set(schema) - SUPPORTED_KEYWORDS
        for child in schema.get("properties", {}).values():
            found |= unsupported_keywords(child)
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                found |= unsupported_keywords(schema[key])
    return found
