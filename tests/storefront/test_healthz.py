from starlette.testclient import TestClient

from headless_commerce.runtime.storefront.app import create_app


def test_healthz_answers_ok_without_touching_any_dependency(monkeypatch):
    # An API, cache and tables that do not exist: the health check must not care.
    monkeypatch.setenv("STOREFRONT_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("CACHE_URL", "redis://127.0.0.1:9/0")
    for name in ("SESSION_TABLE_NAME", "FLAGS_TABLE_NAME", "SESSION_SECRET_ARN", "CACHE_AUTH_SECRET_ARN",
                 "USER_POOL_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    with TestClient(create_app()) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_a_missing_api_url_stops_start_up_with_a_clear_message(monkeypatch):
    import pytest

    monkeypatch.delenv("STOREFRONT_API_URL", raising=False)
    with pytest.raises(RuntimeError, match="STOREFRONT_API_URL is not set"), TestClient(create_app()):
        pass
