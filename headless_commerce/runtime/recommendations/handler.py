"""Lambda entry point for GET /recommendations and GET /me/recommendations (errors:
common/errors.py)."""

from headless_commerce.runtime.common.dispatch import api_handler
from headless_commerce.runtime.recommendations import service

handler = api_handler("recommendations", {
    "getRecommendations": lambda r: service.recommend(r.query),
    "getMyRecommendations": lambda r: service.recommend(r.query, r.user().sub),
})
