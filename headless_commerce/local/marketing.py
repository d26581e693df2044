"""Marketing in local mode: the same lifecycle and job consumers, in process, sending to a local
outbox instead of SES, SMS and push. Each message is a JSON file under `<data dir>/outbox` (or
a temporary directory without --data-dir), listed at `GET /local/outbox`.

What stands in for what is deployed:
    SES / End User Messaging / SNS push -> runtime/marketing/outbox.py (a file per message)
    SNS platform applications (APNs, FCM) -> the embedded AWS's, created at start-up, so
        PUT /me/push-device makes real (emulated) endpoints
    EventBridge Scheduler (abandoned-cart check) -> AbandonedCartSchedule (a thread)
    unsubscribe key in Secrets Manager -> a random key kept in the data dir (links keep working
    across restarts)
SES bounces and complaints do not exist locally, so the suppression consumer does not run.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path

from headless_commerce.local.events import _Poller
from headless_commerce.runtime import routes, settings
from headless_commerce.runtime.marketing import names, outbox

OUTBOX_PATH = "/local/outbox"
KEY_FILE = "marketing-unsubscribe.key"
ABANDONED_CART_CHECK_S = 3600.0


class LocalMarketing:
    """The outbox directory and the environment the marketing handlers read locally."""

    def __init__(self, data_dir: str | None) -> None:
        self._temporary = data_dir is None
        base = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="hc-local-marketing-"))
        self.outbox_dir = base / "outbox"
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        self.key = self._key(base)

    @staticmethod
    def _key(base: Path) -> str:
        path = base / KEY_FILE
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        key = secrets.token_urlsafe(48)
        path.write_text(key + "\n", encoding="utf-8")
        path.chmod(0o600)
        return key

    def environment(self, *, api_url: str, table_name: str, jobs_queue_url: str, sns=None) -> dict[str, str]:
        """The handlers' settings; with `sns` (the embedded AWS's client), push applications too."""
        push = {settings.PUSH_PLATFORM_APPLICATIONS: json.dumps(push_applications(sns, table_name))} if sns else {}
        return {**push, settings.MARKETING_TRANSPORT: "outbox",
                settings.MARKETING_OUTBOX_DIR: str(self.outbox_dir),
                settings.MARKETING_UNSUBSCRIBE_KEY: self.key,
                settings.MARKETING_API_URL: api_url,
                settings.MARKETING_TABLE_NAME: table_name,
                settings.MARKETING_JOBS_QUEUE_URL: jobs_queue_url}

    def listing(self) -> dict:
        """`GET /local/outbox`: every message sent, oldest first, and where the files are."""
        return {"directory": str(self.outbox_dir), "messages": outbox.messages(self.outbox_dir)}

    def close(self) -> None:
        if self._temporary:
            shutil.rmtree(self.outbox_dir.parent, ignore_errors=True)


def push_applications(sns, prefix: str) -> dict[str, str]:
    """One platform application per push platform (same name, same ARN on every start, so
    endpoints kept in --data-dir stay valid); no credentials reach Apple or Google."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", prefix)[:200]
    return {platform: sns.create_platform_application(
        Name=f"{name}-{platform.lower()}", Platform=platform,
        Attributes={"PlatformCredential": "local-mode", "PlatformPrincipal": "local-mode"})["PlatformApplicationArn"]
        for platform in routes.PUSH_PLATFORMS}


def abandoned_cart_job(now: float | None = None) -> dict:
    """The job the deployed schedule sends (`run` is its scheduled time)."""
    run = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    return {"job": names.ABANDONED_CART, "id": names.ABANDONED_CART_JOB_ID, "run": run}


class AbandonedCartSchedule(_Poller):
    """EventBridge Scheduler's stand-in: the abandoned-cart job on the jobs queue every
    `interval` seconds (hourly, as deployed)."""

    def __init__(self, *, sqs, queue_url: str, stop: threading.Event,
                 interval: float = ABANDONED_CART_CHECK_S) -> None:
        super().__init__("marketing-schedule", stop, interval)
        self._sqs, self._url = sqs, queue_url

    def poll(self) -> bool:
        self._sqs.send_message(QueueUrl=self._url, MessageBody=json.dumps(abandoned_cart_job()))
        return False
