"""Stateless, signed resumption tokens (spec 3.5) carrying a keyset position.

A token holds everything needed to produce the next page: the list's frozen arguments (prefix,
set, from, and the upper datestamp bound fixed at the first request), the last (datestamp,
identifier) served, the cursor and the list size. It lives nowhere on the server, so it
survives restarts and works across processes; an HMAC makes any tampering detectable.
Tokens never expire, so no `expirationDate` is announced. Whatever a token holds, decoding
either returns a position whose every field has its type and range, or raises
BadResumptionToken: a token can never become a server error.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from oai.protocol.errors import BadResumptionToken
from oai.protocol.syntax import is_metadata_prefix, is_set_spec
from oai.protocol.xmltext import has_illegal_xml_chars

# List tokens: 1 when the last record served is a local one (last_id is its local id: the
# tokens of a store without published records are those issued before format 2 existed), 2
# when it is a published one (last_id is its OAI identifier). Set tokens: always 1.
_FORMAT = 1
_FORMATS = (1, 2)
_MAC_BYTES = 16
# What we issue: base64url, a dot, base64url. Anything else (non-ASCII included) is foreign.
_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# A signed token is ours, but its fields are still checked: a leaked or buggy secret must
# never turn into a server error. Epochs within years 1..9999, counts within SQL's BIGINT.
_MIN_EPOCH = calendar.timegm((1, 1, 1, 0, 0, 0))
_MAX_EPOCH = calendar.timegm((9999, 12, 31, 23, 59, 59))
_MAX_COUNT = 2**63 - 1
_MALFORMED = "the resumption token is malformed"


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
    complete_list_size: int  # 0: not counted (too large to count cheaply; not announced)
    local_id: bool = True  # last_id is a local record's id (else a published identifier)


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

    def _seal(self, kind: str, payload: list[object], version: int = _FORMAT) -> str:
        body = _b64(json.dumps([version, kind, *payload], separators=(",", ":"),
                               ensure_ascii=True).encode("ascii"))
        return f"{body}.{self._mac(body)}"

    def _open(self, token: str, kind: str, formats: tuple[int, ...] = (_FORMAT,),
              ) -> list[object]:
        if _SHAPE.fullmatch(token) is None:
            raise BadResumptionToken("the resumption token is not one this repository issued")
        body, _, mac = token.partition(".")
        if not hmac.compare_digest(mac.encode("ascii"), self._mac(body).encode("ascii")):
            raise BadResumptionToken("the resumption token is not one this repository issued")
        try:
            decoded = json.loads(_unb64(body))
        except (ValueError, RecursionError):
            raise BadResumptionToken(_MALFORMED) from None
        if type(decoded) is not list or not decoded or type(decoded[0]) is not int \
                or decoded[0] not in formats:
            raise BadResumptionToken("the resumption token has an unknown format")
        if decoded[1:2] != [kind]:
            raise BadResumptionToken("the resumption token belongs to another verb")
        return [decoded[0], *decoded[2:]] if len(formats) > 1 else decoded[2:]

    def encode_list(self, position: ListPosition) -> str:
        p = position
        return self._seal(p.verb, [p.prefix, p.set_spec, p.from_epoch, p.until_epoch,
                                   p.last_datestamp, p.last_id, p.cursor,
                                   p.complete_list_size], 1 if p.local_id else 2)

    def decode_list(self, token: str, verb: str) -> ListPosition:
        version, *fields = self._open(token, verb, _FORMATS)
        if len(fields) != 8:
            raise BadResumptionToken(_MALFORMED)
        position = ListPosition(
            verb,
            prefix=_text(fields[0], is_metadata_prefix),
            set_spec=None if fields[1] is None else _text(fields[1], is_set_spec),
            from_epoch=None if fields[2] is None else _int(fields[2], _MIN_EPOCH, _MAX_EPOCH),
            until_epoch=_int(fields[3], _MIN_EPOCH, _MAX_EPOCH),
            last_datestamp=_int(fields[4], _MIN_EPOCH, _MAX_EPOCH),
            last_id=_text(fields[5], _is_record_id),
            cursor=_int(fields[6], 0, _MAX_COUNT),
            complete_list_size=_int(fields[7], 0, _MAX_COUNT),
            local_id=version == 1,
        )
        p = position
        # what every token we issue satisfies: its position lies inside its window
        if not ((p.from_epoch is None or p.from_epoch <= p.last_datestamp)
                and p.last_datestamp <= p.until_epoch
                and (p.complete_list_size == 0 or p.cursor < p.complete_list_size)):
            raise BadResumptionToken(_MALFORMED)
        return position

    def encode_sets(self, position: SetListPosition) -> str:
        p = position
        return self._seal("ListSets", [p.last_spec, p.cursor, p.complete_list_size])

    def decode_sets(self, token: str) -> SetListPosition:
        fields = self._open(token, "ListSets")
        if len(fields) != 3:
            raise BadResumptionToken(_MALFORMED)
        position = SetListPosition(_text(fields[0], is_set_spec), _int(fields[1], 0, _MAX_COUNT),
                                   _int(fields[2], 0, _MAX_COUNT))
        if position.cursor >= position.complete_list_size:
            raise BadResumptionToken(_MALFORMED)
        return position


def _int(value: object, low: int, high: int) -> int:
    """A JSON integer (not a bool, not a float) within [low, high]."""
    if type(value) is not int or not low <= value <= high:
        raise BadResumptionToken(_MALFORMED)
    return value


def _text(value: object, valid: Callable[[str], bool]) -> str:
    if not isinstance(value, str) or not valid(value):
        raise BadResumptionToken(_MALFORMED)
    return value


def _is_record_id(value: str) -> bool:
    return bool(value) and not has_illegal_xml_chars(value)
