"""TransactWriteItems whose items carry labels.

A cancelled transaction is reported as the set of labels whose condition failed
(`TransactionCancelled.failed`), so callers ask "did the cart or a stock line fail?" instead of
decoding DynamoDB's reason list by position. TransactionConflict (another transaction touched
one of the items at the same moment) is retried here with jittered backoff: the one retry loop
every transactional write shares. Only repositories build transactions.
"""

from __future__ import annotations

import random
import time

from botocore.exceptions import ClientError

from headless_commerce.runtime.common.aws import dynamodb, table_name
from headless_commerce.runtime.common.dynamo import to_item, values

_CONFLICT_ATTEMPTS = 5


class TransactionCancelled(Exception):
    """At least one item's condition failed; nothing was written."""

    def __init__(self, failed: frozenset[str]) -> None:
        super().__init__("transaction cancelled: " + ", ".join(sorted(failed)))
        self.failed = failed

    def any(self, prefix: str) -> list[str]:
        """The failed labels starting with `prefix`, without it (e.g. "stock:" -> SKUs)."""
        return sorted(label[len(prefix):] for label in self.failed if label.startswith(prefix))


class Transaction:
    """Items of one TransactWriteItems call, each under a label unique in the transaction."""

    def __init__(self) -> None:
        self._items: list[tuple[str, dict]] = []

    def _add(self, label: str, kind: str, body: dict, condition: str | None,
             names: dict[str, str] | None, vals: dict[str, object] | None) -> Transaction:
        if any(existing == label for existing, _ in self._items):
            raise ValueError(f"duplicate transaction label {label!r}")
        if condition:
            body["ConditionExpression"] = condition
        if names:
            body["ExpressionAttributeNames"] = names
        if vals:
            body["ExpressionAttributeValues"] = values(**vals)
        self._items.append((label, {kind: body}))
        return self

    def put(self, label: str, item: dict, *, condition: str | None = None,
            names: dict[str, str] | None = None, vals: dict[str, object] | None = None
            ) -> Transaction:
        return self._add(label, "Put", {"Item": to_item(item)}, condition, names, vals)

    def update(self, label: str, key: dict, expression: str, *, condition: str | None = None,
               names: dict[str, str] | None = None, vals: dict[str, object] | None = None
               ) -> Transaction:
        return self._add(label, "Update", {"Key": to_item(key), "UpdateExpression": expression},
                         condition, names, vals)

    def delete(self, label: str, key: dict, *, condition: str | None = None,
               names: dict[str, str] | None = None, vals: dict[str, object] | None = None
               ) -> Transaction:
        return self._add(label, "Delete", {"Key": to_item(key)}, condition, names, vals)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(label for label, _ in self._items)

    def write(self) -> None:
        """Commit, retrying TransactionConflict; TransactionCancelled names failed conditions."""
        name = table_name()
        request = [{kind: {**body, "TableName": name} for kind, body in entry.items()}
                   for _, entry in self._items]
        for attempt in range(_CONFLICT_ATTEMPTS):
            try:
                dynamodb().transact_write_items(TransactItems=request)
                return
            except ClientError as error:
                codes = _reason_codes(error)
                if codes is None:
                    raise
                failed = frozenset(label for (label, _), code in zip(self._items, codes, strict=False)
                                   if code == "ConditionalCheckFailed")
                if failed:
                    raise TransactionCancelled(failed) from None
                if "TransactionConflict" not in codes or attempt == _CONFLICT_ATTEMPTS - 1:
                    raise
            time.sleep(random.uniform(0, 0.05 * 2 ** attempt))


def _reason_codes(error: ClientError) -> list[str] | None:
    """Per-item reason codes of a cancelled transaction ("None" where the item was fine), in
    request order; None when the error is not a cancellation."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    reasons = error.response.get("CancellationReasons")
    if reasons is None:
        # Some botocore/moto versions spell the reasons only in the message: "[None, ConditionalCheckFailed]".
        message = error.response.get("Error", {}).get("Message", "")
        inside = message[message.rfind("[") + 1:message.rfind("]")]
        return [part.strip() for part in inside.split(",")] if inside else []
    return [reason.get("Code", "None") for reason in reasons]
