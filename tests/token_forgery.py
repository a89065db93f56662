"""Forged resumption tokens for tests: the repository's signing written independently of
`oai.protocol.tokens` (so the tests pin the token format too), and a hypothesis strategy
for bad tokens of every kind."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from hypothesis import strategies as st


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign(secret: str, payload: Any) -> str:
    """A token as the repository would sign `payload`."""
    body = b64(json.dumps(payload).encode("utf-8"))
    return f"{body}.{mac(secret, body)}"


def mac(secret: str, body: str) -> str:
    return b64(hmac.new(secret.encode("utf-8"), body.encode("ascii"),
                        hashlib.sha256).digest()[:16])


def payload_of(token: str) -> list[Any]:
    body = token.split(".")[0]
    decoded: list[Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return decoded


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3), max_leaves=6)


@st.composite
def bad_tokens(draw: st.DrawFn, secret: str, real: list[str]) -> str:
    """Random, truncated, tampered and real tokens, and real payloads with random JSON
    fields re-signed with the repository's real secret."""
    base = draw(st.sampled_from(real))
    kind = draw(st.sampled_from(["random", "truncated", "tampered", "resigned", "real"]))
    if kind == "random":
        return draw(st.text(max_size=60))
    if kind == "truncated":
        return base[:draw(st.integers(0, len(base)))]
    if kind == "tampered":
        at = draw(st.integers(0, len(base) - 1))
        return base[:at] + draw(st.text(min_size=1, max_size=3)) + base[at + 1:]
    if kind == "real":
        return base
    payload = payload_of(base)
    for _ in range(draw(st.integers(1, 3))):
        payload[draw(st.integers(0, len(payload) - 1))] = draw(JSON)
    if draw(st.booleans()):
        payload = payload[:draw(st.integers(0, len(payload)))]
    return sign(secret, payload)
