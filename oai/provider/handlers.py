"""Verb handlers: an OAI-PMH request in, the response's text chunks out.

No Flask and no SQL here: handlers ask the store for bounded pages and write the stored,
pre-validated metadata fragments around freshly written headers. Every error is raised before
the first chunk is produced, so a response is either a complete answer or an OAI error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from oai.config import Config
from oai.formats import registry
from oai.protocol.arguments import OAIRequest, parse_request
from oai.protocol.datestamps import Granularity, format_datestamp
from oai.protocol.descriptions import (
    about_writer,
    description_elements,
    identify_descriptions,
    oai_identifier,
)
from oai.protocol.errors import (
    BadResumptionToken,
    CannotDisseminateFormat,
    IdDoesNotExist,
    NoMetadataFormats,
    NoRecordsMatch,
    NoSetHierarchy,
    OAIError,
)
from oai.protocol.namespaces import DC, OAI_DC, OAI_DC_SCHEMA_URL
from oai.protocol.schemas import accepts_any_uri
from oai.protocol.tokens import ListPosition, SetListPosition, TokenCodec
from oai.protocol.writer import (
    CLOSE,
    as_any_uri,
    error_elements,
    header_bytes,
    open_envelope,
    set_spec_elements,
)
from oai.protocol.xmltext import escape_text
from oai.provider.sources import RecordSources, Served
from oai.provider.stylesheet import stylesheet_preamble
from oai.store.repository import Store

GRANULARITY = Granularity.SECONDS


@lru_cache(maxsize=4096)
def _datestamp_bytes(epoch: int) -> bytes:
    return format_datestamp(epoch).encode("ascii")


@lru_cache(maxsize=4096)
def _set_specs_bytes(specs: str) -> bytes:
    """The header's setSpec elements for a stored JSON list; cached, since most records share
    a handful of set lists."""
    return set_spec_elements(json.loads(specs))


@dataclass(frozen=True)
class Response:
    """A finished response: its text chunks (bounded by the page size)."""

    chunks: list[str | bytes]

    def body(self) -> bytes:
        return b"".join(c if isinstance(c, bytes) else c.encode("utf-8") for c in self.chunks)


class Provider:
    """Answers OAI-PMH requests from a Store, per the config."""

    def __init__(self, config: Config, store: Store, codec: TokenCodec,
                 wall_clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.store = store
        self.codec = codec
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._id_prefix = f"oai:{config.repository_identifier}:"
        self._id_prefix_bytes = self._id_prefix.encode("ascii")
        #: local and published records behind one interface (`oai.provider.sources`)
        self.records = RecordSources(store, self._id_prefix)
        #: what goes between the XML declaration and the root: the stylesheet instruction
        self.preamble = stylesheet_preamble(config)
        self._descriptions = description_elements([
            oai_identifier(config.repository_identifier, self.oai_identifier("123456")),
            *identify_descriptions(config.identify).values()])
        # Published records keep their origins' identifiers, which the oai-identifier
        # description (all identifiers are oai:<repositoryIdentifier>:...) would misstate
        self._descriptions_published = description_elements(
            list(identify_descriptions(config.identify).values()))
        # the about container of a record, from its licence; None: records have none
        self._about = (about_writer(config.about_rights, accepts_any_uri)
                       if config.about_rights is not None else None)

    # -- entry point -----------------------------------------------------------------------

    def handle(self, pairs: Iterable[tuple[str, str]], base_url: str) -> Response:
        """The whole response to one request (GET and POST arrive here identically)."""
        now = int(self._wall_clock())
        base_url = as_any_uri(base_url)  # it is also Identify's baseURL, an xs:anyURI
        request: OAIRequest | None = None
        try:
            request = parse_request(pairs, GRANULARITY)
            body = getattr(self, f"_{request.verb}")(request, base_url)
        except OAIError as error:
            echo = (request_echo(request) if request is not None
                    and error.echo_request_arguments else None)
            return Response([open_envelope(now, base_url, echo, self.preamble),
                             error_elements([(error.code, error.message)]), CLOSE])
        return Response([open_envelope(now, base_url, request_echo(request), self.preamble),
                         *body, CLOSE])

    # -- identifiers -----------------------------------------------------------------------

    def oai_identifier(self, local_id: str) -> str:
        return self._id_prefix + local_id

    def local_id(self, identifier: str) -> str:
        if not identifier.startswith(self._id_prefix) or len(identifier) == len(self._id_prefix):
            raise IdDoesNotExist(f"{identifier!r} is not an identifier of this repository")
        return identifier[len(self._id_prefix):]

    def _header(self, row: Served) -> bytes:
        """A record's <header>; the one place headers are written (lists and GetRecord)."""
        if row.local_id is not None:
            # local ids are validated against the record schema: only & needs escaping
            identifier = (self._id_prefix_bytes
                          + row.local_id.replace("&", "&amp;").encode("utf-8"))
        else:
            identifier = escape_text(row.identifier).encode("utf-8")
        specs = _set_specs_bytes(row.specs) if row.specs != "[]" else b""
        return header_bytes(identifier, _datestamp_bytes(row.datestamp), row.deleted, specs)

    def _record(self, row: Served, about: bytes = b"") -> bytes:
        """One <record>, as bytes around the stored fragment (the hot path of ListRecords),
        with its `about` containers, if any: a published record's provenance first."""
        if row.deleted or row.xml is None:
            return b"<record>%s</record>" % self._header(row)
        xml = row.xml if isinstance(row.xml, bytes) else row.xml.encode("utf-8")
        if row.about is not None:
            about = row.about.encode("utf-8") + about
        return b"<record>%s<metadata>%s</metadata>%s</record>" % (self._header(row), xml,
                                                                  about)

    def _record_writer(self, page: list[Served]) -> Callable[[Served], bytes]:
        """How to write the records of `page`: with about containers when configured (their
        licences read in one query; local records only), else the plain hot path."""
        about = self._about
        if about is None:
            return self._record
        licences = self.store.record_licences([r.local_id for r in page
                                               if not r.deleted and r.local_id is not None])
        return lambda row: self._record(row, about(licences.get(row.local_id))
                                        if row.local_id is not None else b"")

    # -- verbs -----------------------------------------------------------------------------

    def _Identify(self, request: OAIRequest, base_url: str) -> list[str]:
        c = self.config
        emails = "".join(f"<adminEmail>{escape_text(e)}</adminEmail>" for e in c.admin_emails)
        compression = ("<compression>gzip</compression><compression>deflate</compression>"
                       if c.compression else "")
        return [
            "<Identify>",
            f"<repositoryName>{escape_text(c.repository_name)}</repositoryName>",
            f"<baseURL>{escape_text(base_url)}</baseURL>",
            "<protocolVersion>2.0</protocolVersion>",
            emails,
            f"<earliestDatestamp>{format_datestamp(self.records.earliest_datestamp())}"
            "</earliestDatestamp>",
            "<deletedRecord>persistent</deletedRecord>",
            f"<granularity>{GRANULARITY.value}</granularity>",
            compression,
            (self._descriptions_published if self.records.published.earliest() is not None
             else self._descriptions),
            "</Identify>",
        ]

    def _ListMetadataFormats(self, request: OAIRequest, base_url: str) -> list[str]:
        identifier = request.get("identifier")
        formats = registry()
        prefixes = list(formats)
        if identifier is not None:
            found = self.records.record_formats(identifier)
            if found is None:
                raise IdDoesNotExist(f"no record has the identifier {identifier!r}")
            prefixes = [p for p in prefixes if p in found]
            if not prefixes:
                raise NoMetadataFormats(f"{identifier!r} has no metadata format available")
        out = ["<ListMetadataFormats>"]
        for prefix in prefixes:
            fmt = formats[prefix]
            out.append(f"<metadataFormat><metadataPrefix>{prefix}</metadataPrefix>"
                       f"<schema>{escape_text(fmt.schema_location)}</schema>"
                       f"<metadataNamespace>{escape_text(fmt.namespace)}</metadataNamespace>"
                       "</metadataFormat>")
        out.append("</ListMetadataFormats>")
        return out

    def _ListSets(self, request: OAIRequest, base_url: str) -> list[str]:
        token = request.get("resumptionToken")
        limit = self.config.sets_page_size
        if token is not None:
            position = self.codec.decode_sets(token)
            after, cursor, size = position.last_spec, position.cursor, position.complete_list_size
        else:
            size = self.store.count_sets()
            if size == 0:
                raise NoSetHierarchy("this repository has no sets")
            after, cursor = None, 0
        page = self.store.sets_page(after, limit + 1)
        more = len(page) > limit
        page = page[:limit]
        if not page:
            raise BadResumptionToken("the set list has changed; start ListSets again")
        out = ["<ListSets>"]
        for info in page:
            description = ""
            if info.description:
                description = (
                    f'<setDescription><oai_dc:dc xmlns:oai_dc="{OAI_DC}" xmlns:dc="{DC}" '
                    f'xsi:schemaLocation="{OAI_DC} {OAI_DC_SCHEMA_URL}">'
                    f"<dc:description>{escape_text(info.description)}</dc:description>"
                    "</oai_dc:dc></setDescription>")
            out.append(f"<set><setSpec>{escape_text(info.spec)}</setSpec>"
                       f"<setName>{escape_text(info.name)}</setName>{description}</set>")
        returned = cursor + len(page)
        if more:
            next_token = self.codec.encode_sets(
                SetListPosition(page[-1].spec, returned, max(size, returned + 1)))
            out.append(_token_element(next_token, cursor, max(size, returned + 1)))
        elif token is not None:
            out.append(_token_element("", cursor, returned))
        out.append("</ListSets>")
        return out

    def _GetRecord(self, request: OAIRequest, base_url: str) -> list[str | bytes]:
        identifier = request.arguments["identifier"]
        prefix = request.arguments["metadataPrefix"]
        if prefix not in registry():
            raise CannotDisseminateFormat(f"{prefix!r} is not a metadata format of this "
                                          "repository")
        found = self.records.get_record(identifier, prefix)
        if found is None:
            raise IdDoesNotExist(f"no record has the identifier {identifier!r}")
        row, in_format = found
        if not in_format:
            raise CannotDisseminateFormat(f"{identifier!r} is not available as {prefix}")
        return [b"<GetRecord>", self._record_writer([row])(row), b"</GetRecord>"]

    def _ListIdentifiers(self, request: OAIRequest, base_url: str) -> list[str | bytes]:
        return self._list(request, with_metadata=False)

    def _ListRecords(self, request: OAIRequest, base_url: str) -> list[str | bytes]:
        return self._list(request, with_metadata=True)

    # -- record lists ----------------------------------------------------------------------

    def _list(self, request: OAIRequest, with_metadata: bool) -> list[str | bytes]:
        verb = request.verb
        limit = self.config.page_size
        token = request.get("resumptionToken")
        if token is not None:
            pos = self.codec.decode_list(token, verb)
            if pos.prefix not in registry():
                raise BadResumptionToken("the token's metadata format is no longer served")
            page, more, pos = self._resume(pos, limit, with_metadata)
            cursor = pos.cursor
        else:
            pos, page, more = self._first_page(request, limit, with_metadata)
            cursor = 0
        render: Callable[[Served], bytes] = (self._record_writer(page) if with_metadata
                                              else self._header)
        out: list[str | bytes] = [f"<{verb}>", *map(render, page)]
        returned = cursor + len(page)
        if more:
            last = page[-1]
            size = (max(pos.complete_list_size, returned + 1) if pos.complete_list_size
                    else 0)
            next_pos = ListPosition(verb, pos.prefix, pos.set_spec, pos.from_epoch,
                                    pos.until_epoch, last.datestamp,
                                    last.identifier if last.local_id is None else last.local_id,
                                    returned, size, local_id=last.local_id is not None)
            out.append(_token_element(self.codec.encode_list(next_pos), cursor, size))
        elif token is not None:
            out.append(_token_element("", cursor, returned))
        out.append(f"</{verb}>")
        return out

    def _first_page(self, request: OAIRequest, limit: int,
                    with_metadata: bool) -> tuple[ListPosition, list[Served], bool]:
        prefix = request.arguments["metadataPrefix"]
        if prefix not in registry():
            raise CannotDisseminateFormat(f"{prefix!r} is not a metadata format of this "
                                          "repository")
        set_spec = request.get("set")
        if set_spec is not None and self.store.count_sets() == 0:
            raise NoSetHierarchy("this repository has no sets")
        from_epoch = request.from_.epoch if request.from_ else None
        bound = self.store.now() - self.config.safety_lag
        if request.until is not None:
            bound = min(bound, request.until.last_second)
        page = self.records.list_page(prefix, set_spec, from_epoch, bound, None, limit + 1,
                                      with_metadata)
        if not page:
            raise NoRecordsMatch("no records match the request")
        more = len(page) > limit
        size = len(page)
        if more:  # counted where cheap (README "completeListSize"); 0: not announced
            size = self.records.count_list_upto(prefix, set_spec, from_epoch, bound,
                                                self.config.complete_list_size_limit) or 0
        position = ListPosition(request.verb, prefix, set_spec, from_epoch, bound, 0, "", 0,
                                size)
        return position, page[:limit], more

    def _resume(self, pos: ListPosition, limit: int,
                with_metadata: bool) -> tuple[list[Served], bool, ListPosition]:
        """The page after the token's position within its frozen window.

        If records ahead of the cursor all changed since (so left the window), the window is
        widened to the present: their new versions are then served, and the page is never
        empty."""
        last_id = self._id_prefix + pos.last_id if pos.local_id else pos.last_id
        after = (pos.last_datestamp, last_id)
        for attempt in range(3):
            page = self.records.list_page(pos.prefix, pos.set_spec, pos.from_epoch,
                                          pos.until_epoch, after, limit + 1, with_metadata)
            if page:
                return page[:limit], len(page) > limit, pos
            if attempt:
                self._sleep(self.config.safety_lag + 1)
            bound = self.store.now() - self.config.safety_lag
            pos = ListPosition(pos.verb, pos.prefix, pos.set_spec, pos.from_epoch, bound,
                               pos.last_datestamp, pos.last_id, pos.cursor,
                               pos.complete_list_size)
        raise BadResumptionToken("the list no longer has records past this token; "
                                 "harvest again from the start")


def _token_element(token: str, cursor: int, size: int) -> str:
    """The resumptionToken element; a size of 0 (not counted) is left out (it is optional)."""
    counted = f' completeListSize="{size}"' if size else ""
    return (f'<resumptionToken{counted} cursor="{cursor}">'
            f"{escape_text(token)}</resumptionToken>")


def request_echo(request: OAIRequest) -> dict[str, str]:
    """The request element's attributes: the verb and its arguments, verbatim."""
    return {"verb": request.verb, **request.arguments}


__all__ = ["Provider", "Response"]
