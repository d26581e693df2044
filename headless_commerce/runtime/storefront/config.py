"""The storefront's settings, read once from the environment (names: runtime/settings.py)."""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from headless_commerce.runtime import settings
from headless_commerce.runtime.storefront import aws

log = logging.getLogger("headless_commerce.storefront")

PACKAGE_DIR = Path(__file__).resolve().parent
# Shared configuration keys a team may set in <SHARED_CONFIG_DIR>/config/storefront.json.
DEFAULT_SITE = {"store_name": "Headless Commerce", "featured_limit": 8, "recommended_limit": 4,
                "currency_symbols": {"USD": "$", "EUR": "€", "GBP": "£"}}
MAX_FORM_BYTES = 16 * 1024


def _secret(arn: str) -> str:
    return aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]


@dataclass
class StorefrontConfig:
    api_url: str
    cache_url: str | None = None
    cache_password: str | None = None
    session_table: str | None = None
    flags_table: str | None = None
    session_key: str = field(default_factory=lambda: secrets.token_urlsafe(48), repr=False)
    user_pool_client_id: str | None = None
    shared_dir: Path | None = None
    # Secure cookies (HTTPS) by default; only plain-HTTP local mode turns it off.
    secure_cookies: bool = True
    # Origin that serves relative image paths (/assets/...); None: this site's own origin, as
    # CloudFront routes /assets/* to the assets bucket. Local mode: the local API serves them.
    assets_url: str | None = None
    # Local mode: say on the confirmation page that any code works (moto does not send mail).
    local_mode: bool = False
    # The commerce bus shopper interactions go to (recommendations); None: not published.
    event_bus_name: str | None = None

    @classmethod
    def from_environment(cls) -> StorefrontConfig:
        if not os.environ.get(settings.STOREFRONT_API_URL):
            raise RuntimeError(f"{settings.STOREFRONT_API_URL} is not set: the storefront needs the "
                               "commerce API's base URL")
        session_arn = settings.session_secret_arn()
        auth_arn = settings.cache_auth_secret_arn()
        config = cls(
            api_url=settings.storefront_api_url(), cache_url=settings.cache_url(),
            cache_password=_secret(auth_arn) if auth_arn else None,
            session_table=settings.session_table_name(), flags_table=settings.flags_table_name(),
            user_pool_client_id=settings.user_pool_client_id(),
            shared_dir=Path(settings.shared_config_dir()),
            event_bus_name=settings.storefront_event_bus_name())
        if session_arn:
            config.session_key = _secret(session_arn)
        else:
            log.warning("%s is not set: session cookies are signed with a per-process random key",
                        settings.SESSION_SECRET_ARN)
        return config

    def template_dirs(self) -> list[Path]:
        """The shared (EFS) templates first, when mounted, then the packaged ones."""
        dirs = []
        if self.shared_dir is not None and (self.shared_dir / "templates").is_dir():
            dirs.append(self.shared_dir / "templates")
        return [*dirs, PACKAGE_DIR / "templates"]

    def site(self) -> dict:
        """Shared site configuration: the EFS copy when mounted and readable, else the packaged."""
        site = dict(DEFAULT_SITE)
        candidates = [PACKAGE_DIR / "storefront.json"]
        if self.shared_dir is not None:
            candidates.insert(0, self.shared_dir / "config" / "storefront.json")
        for path in candidates:
            try:
                loaded = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if isinstance(loaded, dict):
                site.update({k: v for k, v in loaded.items() if k in DEFAULT_SITE})
                site["config_source"] = str(path)
                break
        return site
