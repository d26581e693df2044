"""`--data-dir`: the embedded AWS's durable state kept in a directory across stop and start.

Kept: the DynamoDB tables (catalog, carts, orders, profiles, ledger, audience) with their
stream position, the Cognito user pools (users with their passwords, the pool and client ids),
the Secrets Manager secrets, and the relay's position on the table's stream. Not kept: queue
messages in flight and the bus (recreated at start, as the deployed stacks would be).

moto has no persistence of its own, so its model objects are pickled as they are. That ties
the file to the moto version that wrote it (pinned in requirements; checked on load) and means
a data directory is trusted like code: only load one you wrote.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import threading
from dataclasses import dataclass
from pathlib import Path

from headless_commerce.local import moto_patches

log = logging.getLogger("headless_commerce.local")

FORMAT = 1
STATE_FILE = "embedded-aws.pickle"
_COGNITO_KEY = "moto-cognito-signing-key"
_save_lock = threading.Lock()


class StateError(Exception):
    """The data directory cannot be used (unreadable, or written by another moto)."""


@dataclass
class Kept:
    """What a previous run created, reused instead of created anew."""

    region: str
    table_name: str
    ledger_table_name: str
    audience_table_name: str
    user_pool_id: str
    user_pool_client_id: str
    payment_secret_arn: str
    relay_positions: dict[str, str | None]


@dataclass
class Saved:
    kept: Kept
    backends: dict


def _moto_version() -> str:
    from importlib.metadata import version

    return version("moto")


def _backends(region: str):
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.secretsmanager.models import secretsmanager_backends

    return (dynamodb_backends[DEFAULT_ACCOUNT_ID][region],
            cognitoidp_backends[DEFAULT_ACCOUNT_ID][region],
            secretsmanager_backends[DEFAULT_ACCOUNT_ID][region])


class _Pickler(pickle.Pickler):
    # A user pool holds moto's signing key, a cryptography object pickle cannot copy; it is
    # the same published key file every time, so it is stored as a reference.
    def persistent_id(self, obj):
        from joserfc.jwk import RSAKey

        return _COGNITO_KEY if isinstance(obj, RSAKey) else None


class _Unpickler(pickle.Unpickler):
    def persistent_load(self, pid):
        if pid != _COGNITO_KEY:
            raise pickle.UnpicklingError(f"unknown reference {pid!r}")
        from joserfc.jwk import RSAKey
        from moto.utilities.utils import load_resource

        return RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))


def load(directory: str | os.PathLike) -> Saved | None:
    """The state a previous run saved in `directory`, or None for a new directory."""
    path = Path(directory) / STATE_FILE
    if not path.exists():
        return None
    try:
        with path.open("rb") as stream:
            header = pickle.load(stream)
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise StateError(f"{path} is not a local-mode state file of format {FORMAT}")
            if header["moto"] != _moto_version():
                raise StateError(
                    f"{path} was written with moto {header['moto']}, this is moto "
                    f"{_moto_version()}: use another --data-dir (or install moto "
                    f"{header['moto']})")
            kept = Kept(**header["kept"])
            backends = _Unpickler(stream).load()
    except StateError:
        raise
    except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError,
            AttributeError, ImportError) as problem:
        raise StateError(f"cannot read {path}: {problem}") from problem
    return Saved(kept, backends)


def restore(saved: Saved) -> None:
    """Put the saved tables, user pools and secrets into the embedded AWS (before any use)."""
    dynamodb, cognito, secrets = _backends(saved.kept.region)
    dynamodb.tables = saved.backends["dynamodb"]
    cognito.user_pools = saved.backends["cognito"]["user_pools"]
    cognito.user_pool_domains = saved.backends["cognito"]["user_pool_domains"]
    secrets.secrets = saved.backends["secrets"]


def save(directory: str | os.PathLike, kept: Kept) -> Path:
    """Write the current state to `directory` (atomically: a crash leaves the previous file)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    dynamodb, cognito, secrets = _backends(kept.region)
    header = {"format": FORMAT, "moto": _moto_version(), "kept": vars(kept)}
    buffer = io.BytesIO()
    pickle.dump(header, buffer)
    with _save_lock, moto_patches.dynamodb_paused():
        _trim_relayed_records(dynamodb.tables.get(kept.table_name), kept.relay_positions)
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump({
            "dynamodb": dynamodb.tables,
            "cognito": {"user_pools": cognito.user_pools,
                        "user_pool_domains": cognito.user_pool_domains},
            "secrets": secrets.secrets,
        })
        path = directory / STATE_FILE
        partial = path.with_suffix(".partial")
        partial.write_bytes(buffer.getvalue())
        os.replace(partial, path)
    return path


def _trim_relayed_records(table, positions: dict[str, str | None]) -> None:
    """Drop the stream records the relay has already passed on (their events are on the bus),
    keeping the sequence numbers of the rest, so a restart neither relays them again nor
    carries them along."""
    shard = getattr(table, "stream_shard", None)
    if shard is not None:
        moto_patches.trim_shard(shard, positions.get(shard.id))
