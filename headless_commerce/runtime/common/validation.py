"""JSON Schema validation with fastjsonschema (the Powertools validation utility's engine, in
the Powertools layer), each schema compiled once per process.

A thin adapter: fastjsonschema reports its error (`data.lines[0].sku must match
pattern ...`); clients get our shape instead, a dotted field path (`lines[0].sku`, the path a
client shows next to an input) and a short message, the same for request bodies (400) and
event contracts (runtime/events/contracts.py).

Schemas are checked with draft-04 semantics, which the route schemas and event contracts are
written in: under later drafts 1.0 would pass as an "integer" quantity.

fastjsonschema is imported on first use: functions that never validate a body (catalog,
orders) do not pay its import time.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

from headless_commerce.runtime.common.errors import ApiError
from headless_commerce.runtime.common.json_input import join_field

DRAFT_04 = "http://json-schema.org/draft-04/schema#"


def _field(name: str) -> str:
    # fastjsonschema names the failing value "data", "data.lines[0].sku", ...: already our
    # notation once the root's name is dropped. (Its `path` list turns indexes into strings.)
    return name.removeprefix("data").removeprefix(".")


def _message(error) -> str:
    rule, limit = error.rule, error.rule_definition
    if rule == "type":
        names = [limit] if isinstance(limit, str) else limit
        return f"must be of type {' or '.join(names)}"
    if rule == "enum":
        return "must be one of " + ", ".join(map(str, limit))
    if rule == "pattern":
        return "has an invalid format"
    if rule in ("minLength", "maxLength"):
        return f"must be {'at least' if rule == 'minLength' else 'at most'} {limit} characters"
    if rule in ("minimum", "maximum"):
        return f"must be {'at least' if rule == 'minimum' else 'at most'} {limit}"
    if rule in ("minItems", "maxItems"):
        return f"must have {'at least' if rule == 'minItems' else 'at most'} {limit} items"
    if rule == "not" and isinstance(limit, dict) and limit.get("description"):
        # A forbidden shape names what is expected instead (routes.NOT_A_CARD_NUMBER).
        return limit["description"]
    # Anything else: fastjsonschema's own wording, without its "data..." prefix.
    return error.validation_message.removeprefix(error.name).strip()


def _describe(error) -> tuple[str | None, str]:
    """(field, message) of a fastjsonschema error (Powertools' SchemaValidationError carries
    the same attributes)."""
    field = _field(error.name or "data")
    if error.rule == "required":
        missing = next(n for n in error.rule_definition if n not in error.value)
        return join_field(field, missing), "is required"
    if error.rule == "additionalProperties":
        known = (error.definition or {}).get("properties", {})
        extra = next(n for n in error.value if n not in known)
        return join_field(field, extra), "is not an allowed property"
    return field or None, _message(error)


def first_error(schema: dict, value: object) -> tuple[str | None, str] | None:
    """(field, message) of the first violation, or None when `value` is valid."""
    return _compiled_by_text(json.dumps(schema, sort_keys=True))(value)


@functools.lru_cache(maxsize=128)
def _compiled_by_text(schema_text: str) -> Callable[[object], tuple[str | None, str] | None]:
    # Powertools' `validate` compiles the schema into Python source and execs it on every
    # call (about 35 ms for an event contract, most of a consumer's time per event). The route
    # schemas and contracts are a few dozen constants: each is compiled once per process,
    # keyed by its text, so an edited or freshly built schema is never checked by a stale one.
    return compiled(json.loads(schema_text))


def compiled(schema: dict) -> Callable[[object], tuple[str | None, str] | None]:
    """`first_error` against one schema compiled once (the same fastjsonschema check the
    Powertools validation utility runs, without compiling it again on each call)."""
    import fastjsonschema

    check = fastjsonschema.compile(schema if "$schema" in schema else {"$schema": DRAFT_04, **schema})

    def first(value: object) -> tuple[str | None, str] | None:
        try:
            check(value)
        except fastjsonschema.JsonSchemaValueException as error:
            return _describe(error)
        return None

    return first


def validate(schema: dict, value: object) -> None:
    """Raise a 400 ApiError naming the offending field."""
    error = first_error(schema, value)
    if error:
        field, message = error
        raise ApiError(400, "validation_error", f"{field or 'body'} {message}", field)
