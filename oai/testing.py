"""A pytest helper for other projects' test suites: is this OAI-PMH valid?

    from oai.testing import assert_valid_oai

    def test_identify(client):
        assert_valid_oai(client.get("/oai?verb=Identify"))   # a Flask/WSGI response
        assert_valid_oai(Path("exports/page1.xml"))          # a file
        assert_valid_oai(b"<OAI-PMH ...>...</OAI-PMH>")       # bytes

The document gets the same checks as `oai validate` gives a file: the schemas of every
namespace it uses (ours, or those of `catalog`), and the protocol rules a single response
can be judged by. On failure, AssertionError lists one line per problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["assert_valid_oai"]


def _bytes_of(document: Any) -> tuple[bytes, str]:
    """The document's bytes and a name for it in messages."""
    if isinstance(document, bytes | bytearray | memoryview):
        return bytes(document), "<bytes>"
    if isinstance(document, str | Path):
        path = Path(document)
        return path.read_bytes(), str(path)
    get_data = getattr(document, "get_data", None)  # werkzeug/Flask (test) responses
    if callable(get_data):
        return get_data(), f"<{type(document).__name__}>"
    content = getattr(document, "content", None)  # requests, httpx
    if isinstance(content, bytes):
        return content, f"<{type(document).__name__}>"
    raise TypeError(f"expected XML bytes, a path or a response object, got "
                    f"{type(document).__name__}")


def assert_valid_oai(document: Any, *, catalog: str | Path | None = None,
                     warnings: bool = False) -> None:
    """Raise AssertionError, listing the problems, unless `document` (bytes, a path, or a
    Flask/WSGI or requests response) is valid. Warnings (a namespace without a schema) fail
    too when `warnings` is true."""
    from oai.validation import validate_bytes

    data, name = _bytes_of(document)
    report = validate_bytes(data, target=name, catalog=catalog)
    failing = report.problems if warnings else report.errors
    if failing:
        lines = "\n".join(f"  {problem.text()}" for problem in failing)
        raise AssertionError(f"{name} is not valid OAI-PMH ({len(failing)} problem(s)):\n"
                             f"{lines}")
