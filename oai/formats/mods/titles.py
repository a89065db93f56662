"""MODS <titleInfo>: the main title with its subtitles, then alternative and translated
titles; a leading article goes to <nonSort> so that filing skips it."""

from __future__ import annotations

from oai.formats.base import Record
from oai.formats.loc import nonfiling
from oai.protocol.xmltext import escape_attr, escape_text


def lang_attr(lang: str | None) -> str:
    return f' xml:lang="{escape_attr(lang)}"' if lang else ""


def title_info(text: str, lang: str | None, kind: str = "", subtitles: tuple[str, ...] = ()
               ) -> str:
    """A titleInfo; a leading article goes to nonSort (trailing space kept)."""
    attr = f' type="{kind}"' if kind else ""
    skip = nonfiling(text, lang)
    out = [f"<titleInfo{attr}{lang_attr(lang)}>"]
    if skip:
        out.append(f'<nonSort xml:space="preserve">{escape_text(text[:skip])}</nonSort>')
    out.append(f"<title>{escape_text(text[skip:])}</title>")
    out.extend(f"<subTitle>{escape_text(s)}</subTitle>" for s in subtitles)
    out.append("</titleInfo>")
    return "".join(out)


def titles(record: Record) -> list[str]:
    entries = record["titles"]
    main = next((t for t in entries if t.get("kind", "main") == "main"), entries[0])
    subtitles = tuple(t["text"] for t in entries if t.get("kind") == "subtitle")
    out = [title_info(main["text"], main.get("lang"), subtitles=subtitles)]
    for entry in entries:
        kind = entry.get("kind", "main")
        if entry is not main and kind in ("alternative", "translated", "main"):
            out.append(title_info(entry["text"], entry.get("lang"),
                                  "translated" if kind == "translated" else "alternative"))
    return out
