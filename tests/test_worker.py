"""The gunicorn worker's pieces: which failures are the client's, which base URL an answer
carries, and the raw HTTP answer it writes (the worker itself runs in test_serve_robustness)."""

from __future__ import annotations

import socket

import pytest
from gunicorn.http.errors import (
    InvalidHeader,
    InvalidRequestLine,
    InvalidResponseHeader,
    LimitRequestHeaders,
    LimitRequestLine,
)
from lxml import etree

from oai.protocol.schemas import validate_response
from oai.protocol.writer import error_document
from oai.provider.worker import base_url_for, client_error, http_response, is_head
from tests.conftest import NS, make_config


def test_client_errors_are_what_gunicorn_refused() -> None:
    assert client_error(LimitRequestLine(9000, 8190))
    assert client_error(InvalidRequestLine("GARBAGE"))
    assert client_error(LimitRequestHeaders("too many"))
    assert not client_error(InvalidResponseHeader("X\nY"))  # the app's fault, not the client's
    assert not client_error(RuntimeError("boom"))


def test_head_is_recognised_as_far_as_gunicorn_read_it() -> None:
    assert is_head(None, InvalidRequestLine("HEAD /oai?verb=Identify\x00 HTTP/1.1"))
    assert not is_head(None, InvalidRequestLine("GET /oai HTTP/1.1"))
    assert not is_head(None, LimitRequestLine(9000, 8190))  # nothing of the line is known

    class Request:
        method = "HEAD"

    assert is_head(None, InvalidHeader("X", req=Request()))


def test_base_url_is_configured_or_the_address_reached() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        assert base_url_for(None, sock) == f"http://127.0.0.1:{port}/oai"
        assert base_url_for(make_config(base_url="https://x.org/oai"), sock) == \
            "https://x.org/oai"


def test_base_url_of_an_ipv6_address() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    with socket.socket(socket.AF_INET6) as sock:
        try:
            sock.bind(("::1", 0))
        except OSError as exc:
            pytest.skip(f"no IPv6 loopback: {exc}")
        assert base_url_for(None, sock) == f"http://[::1]:{sock.getsockname()[1]}/oai"


@pytest.mark.parametrize("head_only", [False, True])
def test_the_raw_answer(head_only: bool) -> None:
    body = error_document(0, "http://127.0.0.1:1/oai", [("badArgument", "x")])
    data = http_response("503 Service Unavailable", body, {"Retry-After": "10"}, head_only)
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0] == "HTTP/1.1 503 Service Unavailable"
    assert {"Retry-After: 10", "Connection: close", f"Content-Length: {len(body)}",
            "Content-Type: text/xml; charset=utf-8"} <= set(lines[1:])
    assert rest == (b"" if head_only else body)
    validate_response(body)
    assert etree.fromstring(body).find("o:error", NS).get("code") == "badArgument"
