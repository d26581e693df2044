"""Local mode's stand-in for SES, SMS and push: each message is one JSON file in a directory a
developer can open (or list with `GET /local/outbox`), and nothing leaves the machine."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from headless_commerce.runtime import settings
from headless_commerce.runtime.common.clock import now_iso

SUFFIX = ".json"


def directory() -> Path:
    configured = settings.marketing_outbox_dir()
    if configured is None:
        raise RuntimeError("MARKETING_TRANSPORT=outbox needs MARKETING_OUTBOX_DIR")
    return Path(configured)


def write(message: dict) -> str:
    """Store one message; its id. Written to a temporary name and renamed, so a reader never
    sees half a file."""
    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    message_id = str(uuid.uuid4())
    created = now_iso()
    document = {"id": message_id, "created_at": created, **message}
    # The timestamp first: a directory listing is in sending order.
    name = f"{created.replace(':', '')}-{message['kind']}-{message_id}{SUFFIX}"
    temporary = folder / f".{name}.tmp"
    temporary.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, folder / name)
    return message_id


def messages(folder: Path | None = None) -> list[dict]:
    """Every message in the outbox, oldest first."""
    folder = folder or directory()
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        try:
            found.append({**json.loads(path.read_text(encoding="utf-8")), "file": path.name})
        except (OSError, ValueError):
            continue  # removed or edited by hand meanwhile
    return found
