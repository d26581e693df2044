"""The storefront's chat slot (no JavaScript): a form posting to the storefront, which asks the
API's chatbot (faked over HTTP) and shows the conversation; anonymous conversations continue
with the session id the API issued, signed-in ones go to /me/chat with the shopper's token;
bad input and an unavailable bot get the storefront's own pages."""

from __future__ import annotations

import json
import re

import httpx

from tests.storefront.test_bff import FakeApi, FakeFlags, csrf, make_client, sign_in

ISSUED = "v1.abc." + "A" * 22 + "." + "b" * 43


class ChattingApi(FakeApi):
    def __init__(self) -> None:
        super().__init__()
        self.chat_status = 200

    def chat_bodies(self, path: str = "/chat") -> list[dict]:
        return [json.loads(r.content) for r in self.calls if r.url.path == path]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path in ("/chat", "/me/chat"):
            self.calls.append(request)
            if self.chat_status != 200:
                return httpx.Response(self.chat_status, json={"error": {
                    "code": "chat_unavailable" if self.chat_status == 503 else "invalid_text",
                    "message": "no", "field": "text"}})
            body = json.loads(request.content)
            signed_in = request.url.path == "/me/chat"
            return httpx.Response(200, json={
                "messages": [{"type": "text", "text": f"echo <{body['text']}>"}],
                "session_id": None if signed_in else ISSUED})
        return super().__call__(request)


def _conversation(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", line).strip() for line in
            re.findall(r'<li class="chat-[a-z]+"[^>]*>(.*?)</li>', html, re.S)]


def test_the_footer_links_to_the_chat_and_a_turn_works_without_javascript():
    fake = ChattingApi()
    with make_client(fake) as client:
        assert 'href="/chat"' in client.get("/").text
        token = csrf(client, "/chat")
        sent = client.post("/chat", data={"csrf_token": token, "text": "  hello <b>there</b> "})
        assert sent.status_code == 303 and sent.headers["location"] == "/chat#latest"
        page = client.get("/chat")
        assert _conversation(page.text) == [
            '<span class="who">You:</span> hello &lt;b&gt;there&lt;/b&gt;',
            '<span class="who">Assistant:</span> echo &lt;hello &lt;b&gt;there&lt;/b&gt;&gt;']
        client.post("/chat", data={"csrf_token": token, "text": "again"})
    # The first turn starts a conversation; the next continues the one the API issued.
    assert fake.chat_bodies() == [{"text": "hello <b>there</b>"}, {"text": "again", "session_id": ISSUED}]


def test_a_signed_in_shopper_chats_with_their_token():
    fake = ChattingApi()
    with make_client(fake) as client:
        sign_in(client, next="/chat")
        client.post("/chat", data={"csrf_token": csrf(client, "/chat"), "text": "where is my order"})
    [request] = [r for r in fake.calls if r.url.path == "/me/chat"]
    assert request.headers["authorization"] == "id-token-a@example.com"
    assert json.loads(request.content) == {"text": "where is my order"}
    assert not fake.chat_bodies("/chat")


def test_empty_or_long_text_gets_a_400_page_and_never_reaches_the_api():
    fake = ChattingApi()
    with make_client(fake) as client:
        token = csrf(client, "/chat")
        for text in ("", "   ", "x" * 1025):
            reply = client.post("/chat", data={"csrf_token": token, "text": text})
            assert reply.status_code == 400 and 'role="alert"' in reply.text
        assert client.post("/chat", data={"text": "hi"}).status_code == 403     # no CSRF token
    assert not fake.chat_bodies()


def test_an_unavailable_bot_is_a_503_chat_page_and_the_shop_keeps_working():
    fake = ChattingApi()
    fake.chat_status = 503
    with make_client(fake) as client:
        reply = client.post("/chat", data={"csrf_token": csrf(client, "/chat"), "text": "hello"})
        assert reply.status_code == 503 and "not available right now" in reply.text
        assert 'value="hello"' in reply.text         # what the shopper typed is kept
        assert client.get("/products/p-1").status_code == 200


def test_the_chat_flag_hides_the_slot_and_the_page():
    fake = ChattingApi()
    with make_client(fake, flags=FakeFlags(chat=False)) as client:
        assert 'href="/chat"' not in client.get("/").text
        assert client.get("/chat").status_code == 404
