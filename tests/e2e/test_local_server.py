"""The local HTTP server on a socket: every answer is JSON (http.server's own rejections too),
HEAD works on GET routes, a slow client is cut off, the backlog holds a burst, requests during
start-up get 503 `starting`, and clients that hang up leave no traceback."""

from __future__ import annotations

import http.client
import json
import socket
import struct
import threading
import time

import pytest

from headless_commerce.local import http_adapter
from headless_commerce.local.http_adapter import error, make_server


class EchoApi:
    """Stands in for LocalApi: answers what it was asked."""

    def handle(self, method, target, headers, body, source_ip="127.0.0.1"):
        if target.startswith("/missing"):
            return error(404, "not_found", "No such route")
        return 200, {"Content-Type": "application/json"}, json.dumps(
            {"method": method, "target": target, "body": body.decode()}).encode()


@pytest.fixture
def server():
    server = make_server("127.0.0.1", 0)
    server.api = EchoApi()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def read_response(sock) -> tuple[bytes, bool]:
    """One response from `sock` (head and Content-Length body, or all until the server closes)
    and whether the server closed the connection after it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data, True
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")[1:]
    length = next((int(line.split(":", 1)[1]) for line in lines
                   if line.lower().startswith("content-length:")), None)
    closes = any(line.lower() == "connection: close" for line in lines)
    while length is None or len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return data.partition(b"\r\n\r\n")[0] + b"\r\n\r\n" + body, True
        body += chunk
    if closes:
        assert sock.recv(65536) == b""             # and it did close
    return head + b"\r\n\r\n" + body, closes


def raw(server, data: bytes, *, wait: float = 10) -> bytes:
    """Send bytes, read one response."""
    with socket.create_connection(server.server_address[:2], timeout=wait) as sock:
        sock.sendall(data)
        return read_response(sock)[0]


def parse(response: bytes) -> tuple[int, dict[str, str], object]:
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, json.loads(body) if body else None


def assert_json_error(response: bytes, status: int) -> dict:
    got, headers, body = parse(response)
    assert got == status, response[:300]
    assert headers["Content-Type"] == "application/json"
    assert set(body["error"]) == {"code", "message", "field"}
    return body


def test_http_servers_own_rejections_are_json(server):
    assert_json_error(raw(server, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n"), 414)
    assert_json_error(raw(server, b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"), 431)
    many = b"".join(b"X-%d: 1\r\n" % i for i in range(120))
    assert_json_error(raw(server, b"GET / HTTP/1.1\r\n" + many + b"\r\n"), 431)
    assert_json_error(raw(server, b"GET / HTTP/2.5\r\n\r\n"), 505)
    assert_json_error(raw(server, b"nonsense\r\n\r\n"), 400)
    chunked = b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"
    assert assert_json_error(raw(server, chunked), 411)["error"]["code"] == "length_required"
    big = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n"
    assert assert_json_error(raw(server, big), 413)["error"]["code"] == "request_too_large"
    assert_json_error(raw(server, b"GET /missing HTTP/1.1\r\nHost: a\r\n\r\n"), 404)


def test_requests_reach_the_api_with_body_and_any_method(server):
    status, headers, body = parse(raw(
        server, b"BREW /pot?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"))
    assert status == 200 and body == {"method": "BREW", "target": "/pot?x=1", "body": "abc"}
    # Unless asked to keep connections alive (local mode does), one response per connection:
    # the container, behind a load balancer, never races it for an idle connection.
    assert headers["Connection"] == "close"


def test_connections_are_kept_alive_after_whole_reads_and_closed_otherwise(server, monkeypatch):
    monkeypatch.setattr(http_adapter, "HEAD_TIMEOUT_S", 0.5)
    monkeypatch.setattr(server, "keep_alive", True)
    with socket.create_connection(server.server_address[:2], timeout=10) as sock:
        # Two requests on one connection, the second sent with the first (pipelined).
        sock.sendall(b"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"
                     b"GET /b HTTP/1.1\r\nHost: a\r\n\r\n")
        first, closed = read_response(sock)
        assert parse(first)[2]["body"] == "hi" and not closed
        second, closed = read_response(sock)
        assert parse(second)[2]["target"] == "/b" and not closed
        for number in range(3):                    # and one at a time, as clients do
            sock.sendall(b"POST /n%d HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx" % number)
            answer, closed = read_response(sock)
            assert parse(answer)[2] == {"method": "POST", "target": f"/n{number}", "body": "x"}
            assert not closed
        started = time.monotonic()                 # idle: closed after HEAD_TIMEOUT_S
        assert sock.recv(65536) == b"" and time.monotonic() - started < 5
    closing = [
        b"GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",     # the client asks
        b"GET /c HTTP/1.0\r\nHost: a\r\n\r\n",                              # HTTP/1.0
        b"GET /missing HTTP/1.1\r\nHost: a\r\n\r\n",                        # an error answer
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n",  # body unread
    ]
    for request in closing:
        with socket.create_connection(server.server_address[:2], timeout=10) as sock:
            sock.sendall(request)
            response, closed = read_response(sock)
            assert closed and parse(response)[1]["Connection"] == "close", request


def test_slow_clients_are_cut_off(server, monkeypatch):
    monkeypatch.setattr(http_adapter, "HEAD_TIMEOUT_S", 0.5)
    monkeypatch.setattr(http_adapter, "BODY_TIMEOUT_S", 0.5)
    with socket.create_connection(server.server_address[:2], timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\n")       # and never the rest of the headers
        for _ in range(3):
            time.sleep(0.2)
            try:
                sock.sendall(b"X-Drip: 1\r\n")     # a byte now and then does not extend it
            except OSError:
                break
        assert sock.recv(65536) == b""           # closed by the server
        assert time.monotonic() - started < 5
    response = raw(server, b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab")
    assert assert_json_error(response, 408)["error"]["code"] == "request_timeout"


def test_backlog_holds_a_burst_and_start_up_answers_503():
    server = make_server("127.0.0.1", 0)          # listening, not serving, no api yet
    sockets = []
    try:
        for _ in range(100):
            sock = socket.create_connection(server.server_address[:2], timeout=3)
            sock.sendall(b"GET /products HTTP/1.1\r\nHost: a\r\n\r\n")
            sockets.append(sock)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        for sock in sockets:
            sock.settimeout(30)
            response = b""
            while chunk := sock.recv(65536):
                response += chunk
            _, headers, body = parse(response)
            assert_json_error(response, 503)
            assert body["error"]["code"] == "starting" and headers["Retry-After"] == "1"
    finally:
        for sock in sockets:
            sock.close()
        server.shutdown()
        server.server_close()


def test_head_on_get_routes_and_clients_that_hang_up(local):
    product = local.call("GET", "/products?limit=1").body["items"][0]["product_id"]
    for path in (f"/products/{product}", "/.well-known/headless-commerce.json", "/products"):
        connection = http.client.HTTPConnection(local.api.split("//")[1], timeout=30)
        connection.request("GET", path)
        got = connection.getresponse()
        length = len(got.read())
        connection.close()
        connection = http.client.HTTPConnection(local.api.split("//")[1], timeout=30)
        connection.request("HEAD", path)
        head = connection.getresponse()
        assert head.status == 200 and head.read() == b""
        assert int(head.headers["Content-Length"]) == length
        connection.close()
    # Hanging up before the answer, politely or with a reset: the session's log (checked when
    # the `local` fixture stops the server) must not show a traceback for it.
    host, port = local.api.split("//")[1].split(":")
    for linger in (False, True):
        for _ in range(5):
            sock = socket.create_connection((host, int(port)))
            if linger:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.sendall(f"GET /products/{product} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            sock.close()
    assert local.call("GET", f"/products/{product}").status == 200
