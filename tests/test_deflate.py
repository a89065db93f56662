"""oai.protocol.deflate: the content codings both sides use, checked against the standard
library's own gzip and zlib (an independent implementation of the same formats)."""

from __future__ import annotations

import gzip
import os
import zlib

import pytest

from oai.protocol.deflate import Decoder, DecodingError, compress

BODY = os.urandom(4000).hex().encode() + b"<record/>" * 3000


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


ENCODED = {
    "gzip (ours)": ("gzip", compress(BODY, "gzip")),
    "gzip (stdlib)": ("gzip", gzip.compress(BODY)),
    "x-gzip": ("x-gzip", gzip.compress(BODY)),
    "deflate, zlib container (ours)": ("deflate", compress(BODY, "deflate")),
    "deflate, zlib container (stdlib)": ("deflate", zlib.compress(BODY)),
    "deflate, bare stream": ("deflate", _raw_deflate(BODY)),
    "gzip, three members": ("gzip", b"".join(gzip.compress(BODY[i:i + 9000])
                                             for i in range(0, 27000, 9000))
                            + gzip.compress(BODY[27000:])),
}


def _decode_in_pieces(coding: str, data: bytes, step: int, limit: int | None = None) -> bytes:
    decoder = Decoder.for_header(coding)
    assert decoder is not None
    return b"".join(decoder.decode(data[i:i + step], limit)
                    for i in range(0, len(data), step))


@pytest.mark.parametrize("name", sorted(ENCODED))
@pytest.mark.parametrize("step", [1, 3, 1000, 1 << 30])
def test_every_coding_decodes_whatever_the_pieces(name: str, step: int) -> None:
    coding, data = ENCODED[name]
    assert _decode_in_pieces(coding, data, step) == BODY


def test_what_we_compress_the_standard_library_reads() -> None:
    assert gzip.decompress(compress(BODY, "gzip")) == BODY
    assert zlib.decompress(compress(BODY, "deflate")) == BODY


def test_the_limit_stops_inflating_a_bomb() -> None:
    bomb = gzip.compress(bytes(50 * 1024 * 1024), 9)
    decoder = Decoder("gzip")
    out = decoder.decode(bomb, limit=1000)
    assert decoder.exceeded and len(out) == 1001


def test_within_the_limit_nothing_is_lost() -> None:
    coding, data = ENCODED["gzip (stdlib)"]
    decoder = Decoder(coding)
    assert decoder.decode(data, limit=len(BODY)) == BODY and not decoder.exceeded


@pytest.mark.parametrize("coding, data", [
    ("gzip", b"\x1f\x8b\x08\x00" + b"\xff" * 40),
    ("gzip", b"<?xml version='1.0'?><OAI-PMH/>"),
    ("deflate", b"\x78\x9c" + b"\xff" * 40),
])
def test_invalid_data_is_a_decoding_error(coding: str, data: bytes) -> None:
    with pytest.raises(DecodingError, match=f"invalid {coding} data"):
        Decoder(coding).decode(data)


def test_bytes_after_a_complete_body_are_ignored() -> None:
    decoder = Decoder("gzip")
    assert decoder.decode(gzip.compress(BODY) + b"\r\n\r\n0 junk") == BODY
    assert decoder.decode(b"more junk") == b""


def test_a_body_that_stops_short_gives_what_it_holds() -> None:
    data = gzip.compress(BODY)
    partial = Decoder("gzip").decode(data[:len(data) // 2])
    assert 0 < len(partial) < len(BODY) and BODY.startswith(partial)


@pytest.mark.parametrize("header", [None, "", "identity", "br", "gzip, deflate", "compress"])
def test_codings_left_to_others(header: str | None) -> None:
    assert Decoder.for_header(header) is None


def test_header_names_are_case_and_space_insensitive() -> None:
    decoder = Decoder.for_header(" GZip ")
    assert decoder is not None and decoder.decode(gzip.compress(BODY)) == BODY
