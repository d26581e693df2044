from starlette.testclient import TestClient

from headless_commerce.runtime.storefront.app import create_app


def test_healthz_answers_ok_without_dependencies(monkeypatch):
    for name in ("STOREFRONT_API_URL", "CACHE_URL", "SESSION_TABLE_NAME", "FLAGS_TABLE_NAME"):
        monkeypatch.delenv(name, raising=False)
    with TestClient(create_app()) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
