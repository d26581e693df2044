"""The command line: refuses bad catalog files and busy ports with exit code 2, seeds a file
catalog, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from headless_commerce.local import demo_catalog
from tests.e2e.conftest import ROOT, request, start_local, stop_local


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "headless_commerce.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_invalid_catalog_names_the_bad_record(tmp_path):
    catalog = demo_catalog.generate(20)
    catalog["products"][7]["skus"][0]["stock"] = -3
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog))
    result = run_cli("local", "--port", "0", "--catalog", str(path))
    assert result.returncode == 2
    assert 'products[7] (product_id "p-0008")' in result.stderr
    assert "'skus[0].stock'" in result.stderr
    assert "Headless Commerce local mode is ready" not in result.stdout


def test_catalog_that_is_not_json(tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text('{"categories": [}')
    result = run_cli("local", "--port", "0", "--catalog", str(path))
    assert result.returncode == 2 and "is not valid JSON" in result.stderr and "line 1" in result.stderr
    missing = run_cli("local", "--catalog", str(tmp_path / "missing.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_busy_port_is_refused():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("local", "--port", str(port))
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr


def test_file_catalog_is_served_and_sigterm_exits_0(tmp_path):
    catalog = {"categories": [{"category_id": "tea", "name": "Tea"},
                              {"category_id": "green", "name": "Green tea", "parent_id": "tea"}],
               "products": [{"product_id": "sencha", "name": "Sencha", "brand": "Leaf",
                             "category_id": "green", "price_amount": 1250,
                             "images": ["https://images.example.com/sencha.jpg"],
                             "skus": [{"sku": "sencha-50g", "stock": 7},
                                      {"sku": "sencha-100g", "stock": 2, "price_amount": 2200}]}]}
    path = tmp_path / "tea.json"
    path.write_text(json.dumps(catalog))
    running, api = start_local("--port", "0", "--catalog", str(path))
    try:
        products = request("GET", f"{api}/products").body["items"]
        assert [p["product_id"] for p in products] == ["sencha"]
        product = request("GET", f"{api}/products/sencha").body
        assert product["available"] == 9 and product["price"]["amount"] == 1250
        assert product["brand"] == "Leaf" and products[0]["brand"] == "Leaf"
        tree = request("GET", f"{api}/categories").body["items"]
        assert tree[0]["children"][0]["category_id"] == "green"
    finally:
        code = stop_local(running)
    assert code == 0, running.text()
    assert "Stopping" in running.text() and "Traceback" not in running.text()
    running.output.unlink(missing_ok=True)
