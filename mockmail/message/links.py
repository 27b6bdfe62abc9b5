"""The links a message offers a reader, and the text of its HTML body: what tests look for in mail.

Verification mails and password resets carry a link the test has to follow, so a message's links are
listed for it rather than dug out with a regex in every test:
- From the HTML body, the `href` of every `<a>` and `<area>`, entities decoded (`&amp;` is `&`), in
  document order: the exact target, whatever the anchor text says.
- From the text body, every `http://`, `https://` and `mailto:` URL, up to white space, a quote or an
  angle bracket (RFC 3986 appendix C: URLs in text are delimited so), without the trailing punctuation of
  the sentence around it (`.`, `,`, `;`, `:`, `!`, `?`, a closing bracket that opened before the URL).
Only http, https and mailto links count (no `javascript:`, no relative paths, no `#anchors`).  HTML links
come first, then the text's, each once, in order.  Percent-escapes stay as written: they are part of the URL.

`html_text` is the HTML body as a reader sees it (tags gone, entities decoded, `<script>` and `<style>`
left out), for searching a message's text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["LINK_SCHEMES", "html_text", "links", "text_links"]

LINK_SCHEMES = ("http", "https", "mailto")

_TEXT_URL = re.compile(r"(?:https?://|mailto:)[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?"
_CLOSING = {")": "(", "]": "[", "}": "{"}
_HIDDEN = frozenset({"script", "style", "head", "title"})
_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "fieldset"),
        *("figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr"),
        *("li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th"),
        *("thead", "tr", "ul"),
    }
)
"""Elements that break a line where they start and end: `<p>a</p><p>b</p>` reads `a b`, not `ab`."""


def _is_link(url: str) -> bool:
    scheme, _, rest = url.partition(":")
    scheme = scheme.lower()
    if scheme == "mailto":
        return bool(rest)
    return scheme in LINK_SCHEMES and rest.startswith("//") and len(rest.strip("/")) > 0


class _HtmlReader(HTMLParser):
    """One pass over an HTML body: the `href`s of its anchors and the text it shows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.pieces: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCKS:
            self.pieces.append(" ")
        if tag in ("a", "area"):
            self.hrefs.extend(value.strip() for name, value in attrs if name == "href" and value)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HIDDEN:  # `<script/>` hides nothing
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(self._hidden - 1, 0)
        elif tag in _BLOCKS:
            self.pieces.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.pieces.append(data)


def _read(html: str) -> _HtmlReader:
    reader = _HtmlReader()
    reader.feed(html)
    reader.close()
    return reader


def html_text(html: str) -> str:
    """The text an HTML body shows, its white space runs made single spaces."""
    return " ".join("".join(_read(html).pieces).split())


def _trimmed(url: str) -> str:
    """`url` without the punctuation of the sentence it ends (see the module doc)."""
    while url:
        last = url[-1]
        unbalanced = last in _CLOSING and url.count(last) > url.count(_CLOSING[last])
        if last in _TRAILING or unbalanced:
            url = url[:-1]
        else:
            break
    return url


def text_links(text: str) -> list[str]:
    """The http, https and mailto URLs written in plain text, in order (duplicates kept)."""
    found = (_trimmed(match.group()) for match in _TEXT_URL.finditer(text))
    return [url for url in found if _is_link(url)]


def links(text: str | None, html: str | None) -> list[str]:
    """The links of a message with these bodies: the HTML's anchors, then the text's URLs, each once."""
    ordered = [href for href in _read(html).hrefs if _is_link(href)] if html else []
    if text:
        ordered += text_links(text)
    return list(dict.fromkeys(ordered))
