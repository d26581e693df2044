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


def test_missing_local_extra_is_one_line_and_exit_2():
    # As after `pip install headless-commerce` without [local]: joserfc cannot be imported.
    result = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['joserfc'] = None; "
         "from headless_commerce.cli import main; sys.exit(main(['local', '--port', '0']))"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "joserfc" in result.stderr and "pip install 'headless-commerce[local]'" in result.stderr


def _outward_address() -> str | None:
    """This machine's address on its default route (no packet is sent), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_all_interfaces_keeps_the_embedded_aws_on_loopback():
    running, api = start_local("--port", "0", "--host", "0.0.0.0")
    try:
        well_known = request("GET", f"{api}/.well-known/headless-commerce.json").body
        aws_port = int(well_known["aws_endpoint_url"].rsplit(":", 1)[1])
        assert well_known["aws_endpoint_url"].startswith("http://127.0.0.1:")
        output = running.text()
        assert "warning: the store's API listens on 0.0.0.0" in output
        assert "forge a sign-in" in output and "embedded AWS endpoint" in output
        assert "stays on 127.0.0.1" in output
        outward = _outward_address()
        if outward:
            api_port = int(api.rsplit(":", 1)[1])
            socket.create_connection((outward, api_port), timeout=5).close()
            try:
                socket.create_connection((outward, aws_port), timeout=5).close()
                raise AssertionError("the embedded AWS answers on a non-loopback address")
            except ConnectionRefusedError:
                pass
    finally:
        code = stop_local(running)
        running.output.unlink(missing_ok=True)
    assert code == 0


def test_data_dir_keeps_users_and_orders_across_a_restart(tmp_path):
    import boto3

    from tests.e2e.conftest import PASSWORD

    def cognito(well_known):
        return boto3.session.Session().client(
            "cognito-idp", endpoint_url=well_known["aws_endpoint_url"],
            region_name=well_known["region"], aws_access_key_id="local",
            aws_secret_access_key="local")

    def sign_in(well_known, email):
        return cognito(well_known).initiate_auth(
            ClientId=well_known["user_pool_client_id"], AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD})["AuthenticationResult"]["IdToken"]

    data = tmp_path / "store"
    email = "restart@example.com"
    running, api = start_local("--port", "0", "--data-dir", str(data))
    try:
        assert f"data          {data} (kept across restarts)" in running.text()
        first = request("GET", f"{api}/.well-known/headless-commerce.json").body
        client = cognito(first)
        client.sign_up(ClientId=first["user_pool_client_id"], Username=email, Password=PASSWORD,
                       UserAttributes=[{"Name": "email", "Value": email}])
        client.confirm_sign_up(ClientId=first["user_pool_client_id"], Username=email,
                               ConfirmationCode="000000")
        token = sign_in(first, email)
        product = request("GET", f"{api}/products/p-0002").body
        sku = next(s["sku"] for s in product["skus"] if s["available"] > 0)
        assert request("POST", f"{api}/cart/items", body={"sku": sku, "quantity": 1},
                       token=token).status == 200
        placed = request("POST", f"{api}/checkout", body={"payment_token": "tok_visa"},
                         headers={"Idempotency-Key": "restart-test-1"}, token=token)
        assert placed.status == 201, placed.body
    finally:
        assert stop_local(running) == 0, running.text()
        running.output.unlink(missing_ok=True)

    running, api = start_local("--port", "0", "--data-dir", str(data))
    try:
        assert f"catalog       kept in {data}" in running.text()
        second = request("GET", f"{api}/.well-known/headless-commerce.json").body
        for name in ("user_pool_id", "user_pool_client_id", "region"):
            assert second[name] == first[name]
        token = sign_in(second, email)         # same account, same password
        orders = request("GET", f"{api}/orders", token=token).body["items"]
        assert [o["order_id"] for o in orders] == [placed.body["order_id"]]
        again = request("POST", f"{api}/checkout", body={"payment_token": "tok_visa"},
                        headers={"Idempotency-Key": "restart-test-1"}, token=token)
        assert again.status == 201 and again.body["order_id"] == placed.body["order_id"]
        assert request("GET", f"{api}/products/p-0002").body["available"] == \
            product["available"] - 1
    finally:
        code = stop_local(running)
        log = running.text()
        running.output.unlink(missing_ok=True)
    assert code == 0 and "Traceback" not in log, log


def test_without_data_dir_the_banner_says_memory_only(local):
    assert "data          in memory only" in local.running.text()
