"""Recommendations in local mode: no Personalize runs here, so /recommendations serves the
fallback ranking from the signals table, which the OrderPlaced consumer fills as deployed."""

from __future__ import annotations

import os

from headless_commerce import model
from headless_commerce.runtime import settings


def install(dynamodb, prefix: str) -> str:
    """Create the signals table unless a kept data directory already holds it; point the
    handlers at it. Returns its name."""
    name = f"{prefix}-recommendation-signals"
    if name not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(TableName=name, **model.signals_table_kwargs())
    os.environ[settings.RECOMMENDATION_SIGNALS_TABLE_NAME] = name
    # No recommenders: the service never asks Personalize.
    os.environ.pop(settings.RECOMMENDER_PARAMETERS, None)
    return name
