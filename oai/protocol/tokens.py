"""Stateless, signed resumption tokens (spec 3.5) carrying a keyset position.

A token holds everything needed to produce the next page: the list's frozen arguments (prefix,
set, from, and the upper datestamp bound fixed at the first request), the last (datestamp,
identifier) served, the cursor and the list size. It lives nowhere on the server, so it
survives restarts and works across processes; an HMAC makes any tampering detectable.
Tokens never expire, so no `expirationDate` is announced.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from oai.protocol.errors import BadResumptionToken

_FORMAT = 1
_MAC_BYTES = 16


@dataclass(frozen=True)
class ListPosition:
    """Where a record list stands after a page (ListRecords / ListIdentifiers)."""

    verb: str
    prefix: str
    set_spec: str | None
    from_epoch: int | None
    until_epoch: int
    last_datestamp: int
    last_id: str
    cursor: int
    complete_list_size: int


@dataclass(frozen=True)
class SetListPosition:
    """Where a ListSets sequence stands after a page."""

    last_spec: str
    cursor: int
    complete_list_size: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenCodec:
    """Signs and verifies tokens with a repository secret shared by all server processes."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the token secret must be at least 16 bytes")
        self._secret = secret

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._secret, body.encode("ascii"), hashlib.sha256).digest()
        return _b64(digest[:_MAC_BYTES])

    def _seal(self, kind: str, payload: list[object]) -> str:
        body = _b64(json.dumps([_FORMAT, kind, *payload], separators=(",", ":"),
                               ensure_ascii=True).encode("ascii"))
        return f"{body}.{self._mac(body)}"

    def _open(self, token: str, kind: str) -> list[object]:
        body, sep, mac = token.partition(".")
        if not sep or not body or not hmac.compare_digest(mac, self._mac(body)):
            raise BadResumptionToken("the resumption token is not one this repository issued")
        try:
            decoded = json.loads(_unb64(body))
        except ValueError:
            raise BadResumptionToken("the resumption token is malformed") from None
        if not isinstance(decoded, list) or decoded[:1] != [_FORMAT]:
            raise BadResumptionToken("the resumption token has an unknown format")
        if decoded[1:2] != [kind]:
            raise BadResumptionToken("the resumption token belongs to another verb")
        return decoded[2:]

    def encode_list(self, position: ListPosition) -> str:
        p = position
        return self._seal(p.verb, [p.prefix, p.set_spec, p.from_epoch, p.until_epoch,
                                   p.last_datestamp, p.last_id, p.cursor,
                                   p.complete_list_size])

    def decode_list(self, token: str, verb: str) -> ListPosition:
        fields = self._open(token, verb)
        try:
            return ListPosition(verb, *fields)  # type: ignore[arg-type]
        except TypeError:
            raise BadResumptionToken("the resumption token is malformed") from None

    def encode_sets(self, position: SetListPosition) -> str:
        p = position
        return self._seal("ListSets", [p.last_spec, p.cursor, p.complete_list_size])

    def decode_sets(self, token: str) -> SetListPosition:
        fields = self._open(token, "ListSets")
        try:
            return SetListPosition(*fields)  # type: ignore[arg-type]
        except TypeError:
            raise BadResumptionToken("the resumption token is malformed") from None
