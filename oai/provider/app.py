"""Flask application factory: one endpoint, `/oai`, answering GET and POST identically.

Whatever reaches /oai is answered with an OAI-PMH document, never an HTML error page: other
HTTP methods and requests Werkzeug refuses (a body over MAX_BODY_BYTES, say) are badArgument
in HTTP 200; a database that does not answer is HTTP 503 with Retry-After (spec 3.1.2.2);
any other failure is logged and answered the same way, since the next request may well work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from flask import Flask, Response, g, redirect, request
from werkzeug.exceptions import BadRequest, HTTPException, MethodNotAllowed

from oai.config import Config, load_config
from oai.formats import configure as configure_formats
from oai.formats import registry
from oai.protocol.tokens import TokenCodec
from oai.protocol.writer import error_document
from oai.provider import metrics
from oai.provider.compression import compress, negotiate
from oai.provider.conditional import CONDITIONAL_VERBS, entity_tag, last_modified
from oai.provider.gate import MaintenanceGate
from oai.provider.handlers import Provider
from oai.provider.stylesheet import (
    CACHE_CONTROL,
    ENDPOINT,
    STYLESHEET_CONTENT_TYPE,
    STYLESHEET_PATH,
    stylesheet,
)
from oai.store.errors import StoreUnavailable
from oai.store.repository import Store

CONTENT_TYPE = "text/xml; charset=utf-8"
#: Seconds a client is asked to wait when the database does not answer.
RETRY_AFTER_SECONDS = 10
#: OAI-PMH arguments in a POST body take a few hundred bytes; refuse to buffer more.
MAX_BODY_BYTES = 64 * 1024
ALLOWED_METHODS = "GET, HEAD, POST"
UNAVAILABLE_MESSAGE = "the repository cannot answer right now; retry after {seconds} seconds"


def create_app(config: Config | None = None, store: Store | None = None,
               sleep: Callable[[float], None] = time.sleep) -> Flask:
    """Build the WSGI app; the store is opened here unless one is handed in (tests). `sleep`
    is how an answer waits (`oai serve`: outside its turn, `oai.provider.turns`)."""
    config = config or load_config()
    configure_formats(config.formats, config.format_settings())
    registry()  # an unknown or incomplete selection stops here, with its one-line reason
    store = store or Store.open(config.database_url)
    secret = config.secret_key or store.setting("token_secret")
    if not secret:
        raise RuntimeError("no token secret: run 'oai init' or set secret_key")
    provider = Provider(config, store, TokenCodec(secret.encode("utf-8")), sleep=sleep)
    gate = MaintenanceGate(store)
    started = int(time.time())  # bounds Last-Modified: this process's config may be new

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
        verb = next((v for k, v in pairs if k == "verb"), None)
        g.oai_verb = metrics.verb_label(verb)
        down = gate.state()
        if down is not None:
            metrics.get().shed.labels("maintenance").inc()
            return oai_error(503, down.message, {"Retry-After": str(down.retry_after)})
        # A response is bounded by the page size, so it is sent as one buffer with a
        # Content-Length: one write instead of hundreds of chunked ones.
        body = provider.handle(pairs, base_url()).body()
        headers = {"Vary": "Accept-Encoding"}
        conditional = verb in CONDITIONAL_VERBS and request.method in ("GET", "HEAD")
        tag = entity_tag(body) if conditional else None
        modified = last_modified(verb or "", body, started) if conditional else None
        coding = negotiate(request.headers.get("Accept-Encoding")) if config.compression \
            else None
        if coding:
            body = compress(body, coding)
            headers["Content-Encoding"] = coding
        response = Response(body, status=200, content_type=CONTENT_TYPE, headers=headers)
        if tag is not None:
            response.set_etag(f"{tag}-{coding}" if coding else tag)  # one per coding
            if modified is not None:
                response.last_modified = datetime.fromtimestamp(modified, UTC)
            response.make_conditional(request)
        return response

    @app.before_request
    def started_at() -> None:
        g.oai_started = time.perf_counter()

    @app.after_request
    def measured(response: Response) -> Response:
        if request.path == "/oai":
            verb = getattr(g, "oai_verb", "none")
            metrics.get().requests.labels(verb, str(response.status_code)).inc()
            metrics.get().duration.labels(verb).observe(time.perf_counter() - g.oai_started)
        return response

    @app.route("/metrics")
    def prometheus_metrics() -> Response:
        """Prometheus text exposition (`oai.provider.metrics`)."""
        data, content_type = metrics.exposition()
        return Response(data, content_type=content_type,
                        headers={"Cache-Control": "no-store"})

    @app.route("/")
    def index() -> Response:
        return redirect("/oai?verb=Identify")  # type: ignore[return-value]

    @app.route(ENDPOINT + STYLESHEET_PATH, provide_automatic_options=False)
    def oai_stylesheet() -> Response:
        """The XSLT of the browsable feed: cached for a day, revalidated by ETag."""
        xsl = stylesheet()
        coding = negotiate(request.headers.get("Accept-Encoding")) if config.compression \
            else None
        headers = {"Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding",
                   "X-Content-Type-Options": "nosniff"}
        if coding:
            headers["Content-Encoding"] = coding
        response = Response(compress(xsl.body, coding) if coding else xsl.body,
                            content_type=STYLESHEET_CONTENT_TYPE, headers=headers)
        response.set_etag(f"{xsl.etag}-{coding}" if coding else xsl.etag)  # one per coding
        response.make_conditional(request)
        return response

    def oai_error(status: int, message: str, headers: dict[str, str]) -> Response:
        body = error_document(int(time.time()), base_url(), [("badArgument", message)],
                              preamble=provider.preamble)
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
