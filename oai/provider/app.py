"""Flask application factory: one endpoint, `/oai`, answering GET and POST identically.

Whatever reaches /oai is answered with an OAI-PMH document, never an HTML error page: other
HTTP methods and requests Werkzeug refuses (a body over MAX_BODY_BYTES, say) are badArgument
in HTTP 200; a database that does not answer is HTTP 503 with Retry-After (spec 3.1.2.2);
any other failure is logged and answered the same way, since the next request may well work.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl

from flask import Flask, Response, redirect, request
from werkzeug.exceptions import BadRequest, HTTPException, MethodNotAllowed

from oai.config import Config, load_config
from oai.formats import registry
from oai.formats import select as select_formats
from oai.protocol.tokens import TokenCodec
from oai.protocol.writer import error_document
from oai.provider.compression import compress, negotiate
from oai.provider.handlers import Provider
from oai.store.errors import StoreUnavailable
from oai.store.repository import Store

CONTENT_TYPE = "text/xml; charset=utf-8"
#: Seconds a client is asked to wait when the database does not answer.
RETRY_AFTER_SECONDS = 10
#: OAI-PMH arguments in a POST body take a few hundred bytes; refuse to buffer more.
MAX_BODY_BYTES = 64 * 1024
ALLOWED_METHODS = "GET, HEAD, POST"
UNAVAILABLE_MESSAGE = "the repository cannot answer right now; retry after {seconds} seconds"


def create_app(config: Config | None = None, store: Store | None = None) -> Flask:
    """Build the WSGI app; the store is opened here unless one is handed in (tests)."""
    config = config or load_config()
    select_formats(config.formats)
    registry()  # an unknown or incomplete selection stops here, with its one-line reason
    store = store or Store.open(config.database_url)
    secret = config.secret_key or store.setting("token_secret")
    if not secret:
        raise RuntimeError("no token secret: run 'oai init' or set secret_key")
    provider = Provider(config, store, TokenCodec(secret.encode("utf-8")))

    app = Flask(__name__)
    app.config["OAI_PROVIDER"] = provider
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    def base_url() -> str:
        return config.base_url or request.base_url

    # OPTIONS is answered by our error handler like any other method, not by Flask.
    @app.route("/oai", methods=["GET", "POST"], provide_automatic_options=False)
    def oai_endpoint() -> Response:
        raw = _read_body() if request.method == "POST" else \
            request.query_string.decode("latin-1")
        pairs = parse_qsl(raw, keep_blank_values=True, encoding="utf-8", errors="replace")
        # A response is bounded by the page size, so it is sent as one buffer with a
        # Content-Length: one write instead of hundreds of chunked ones.
        body = provider.handle(pairs, base_url()).body()
        headers = {"Vary": "Accept-Encoding"}
        coding = negotiate(request.headers.get("Accept-Encoding")) if config.compression \
            else None
        if coding:
            body = compress(body, coding)
            headers["Content-Encoding"] = coding
        return Response(body, status=200, content_type=CONTENT_TYPE, headers=headers)

    @app.route("/")
    def index() -> Response:
        return redirect("/oai?verb=Identify")  # type: ignore[return-value]

    def oai_error(status: int, message: str, headers: dict[str, str]) -> Response:
        body = error_document(int(time.time()), base_url(), [("badArgument", message)])
        return Response(body, status=status, content_type=CONTENT_TYPE, headers=headers)

    def unavailable() -> Response:
        return oai_error(503, UNAVAILABLE_MESSAGE.format(seconds=RETRY_AFTER_SECONDS),
                         {"Retry-After": str(RETRY_AFTER_SECONDS)})

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | HTTPException:
        if request.path != "/oai":
            return error  # unknown paths keep their plain 404
        if isinstance(error, MethodNotAllowed):
            return oai_error(200, f"OAI-PMH requests use GET or POST, not {request.method}",
                             {"Allow": ALLOWED_METHODS})
        if (error.code or 500) >= 500:
            app.logger.error("HTTP %s on %s: %s", error.code, request.path, error)
            return unavailable()
        return oai_error(200, f"the request cannot be read: {error.name}", {})

    @app.errorhandler(StoreUnavailable)
    def store_unavailable(error: StoreUnavailable) -> Response:
        app.logger.warning("503 for %s: %s", request.path, error)
        return unavailable()

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        app.logger.error("error answering %s %s", request.method, request.path,
                         exc_info=error)
        return unavailable()

    return app


def _read_body() -> str:
    """The POST body as latin-1 text (parse_qsl decodes the escapes as UTF-8)."""
    try:
        return request.get_data(cache=False).decode("latin-1")
    except HTTPException:
        raise
    except Exception as error:  # the server cannot decode it: broken chunked coding...
        raise BadRequest(f"the request body cannot be read ({type(error).__name__})") \
            from error
