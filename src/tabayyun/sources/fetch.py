"""Fetching pages and feeds over HTTP: an http(s):// argument to `ingest` (CLI or API) is read here.

A page becomes one RawItem with its URL and the charset its server declared; an RSS or Atom feed
becomes the pages its items link to, each fetched in turn. Every failure (refused connection, HTTP
error, timeout, a body over the size limit) is one `ItemFailure` and the batch goes on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx

from tabayyun import __version__
from tabayyun.pipeline import RawItem
from tabayyun.sources.readers import ItemFailure

USER_AGENT = f"tabayyun/{__version__} (claim-verification workbench; +https://github.com/tabayyun)"
TIMEOUT_SECONDS = 20.0
MAX_FEED_ITEMS = 200
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json")
XML_TYPES = ("application/xml", "text/xml")
ATOM = "{http://www.w3.org/2005/Atom}"


class FetchError(Exception):
    """One fetch that went wrong, with a one-line reason."""


@dataclass
class Fetched:
    url: str                 # after redirects
    content_type: str        # the media type, lower case, without parameters
    charset: str | None      # as the server declared it
    body: bytes


@dataclass
class FeedLink:
    url: str
    title: str | None = None
    published: str | None = None


def new_client(timeout: float = TIMEOUT_SECONDS) -> httpx.Client:
    return httpx.Client(follow_redirects=True, timeout=timeout, headers={"User-Agent": USER_AGENT},
                        max_redirects=10)


def fetch(client: httpx.Client, url: str, max_bytes: int) -> Fetched:
    """GET `url`, reading at most `max_bytes` of body; raises FetchError with the reason."""
    try:
        with client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}".strip())
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"too large: {int(declared):,} bytes (limit {max_bytes:,})")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise FetchError(f"too large: over {max_bytes:,} bytes")
            media, _, params = response.headers.get("content-type", "").partition(";")
            return Fetched(str(response.url), media.strip().lower(), _charset(params), bytes(body))
    except httpx.TimeoutException:
        raise FetchError(f"timed out after {client.timeout.read or TIMEOUT_SECONDS:g} s") from None
    except httpx.HTTPError as err:
        reason = str(err).splitlines()[0][:160] if str(err) else ""
        raise FetchError(f"cannot fetch: {type(err).__name__}: {reason}") from None


def _charset(params: str) -> str | None:
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip(" \"'"):
            return value.strip(" \"'")
    return None


def _xml_root(body: bytes):
    from lxml import etree

    # Feeds are hostile input: no entities resolved, no network, no DTD loaded.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True)
    try:
        return etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError:
        return None


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def looks_like_feed(fetched: Fetched) -> bool:
    """A feed by its declared type, or XML whose root is <rss>, <feed> or <rdf:RDF>."""
    if fetched.content_type in FEED_TYPES:
        return True
    if fetched.content_type in XML_TYPES or (not fetched.content_type and fetched.body.lstrip()[:5] == b"<?xml"):
        root = _xml_root(fetched.body)
        return root is not None and _local(root.tag) in ("rss", "feed", "rdf")
    return False


def _iso_date(value: str | None) -> str | None:
    """RSS dates are RFC 822 ('Tue, 05 Mar 2024 10:00:00 GMT'); Atom's are ISO already."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return parsedate_to_datetime(value).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return value[:10] if value[:4].isdigit() else None


def _text_of(element, *names: str) -> str | None:
    for child in element:
        if _local(child.tag) in names and (child.text or "").strip():
            return child.text.strip()
    return None


def _atom_link(entry) -> str | None:
    for child in entry:
        if _local(child.tag) == "link" and child.get("rel", "alternate") == "alternate" and child.get("href"):
            return child.get("href")
    return None


def feed_links(fetched: Fetched) -> list[FeedLink]:
    """The links of a feed's items (RSS <item><link>, Atom <entry><link rel=alternate>), absolute,
    http(s) only, in feed order, without repeats."""
    root = _xml_root(fetched.body)
    if root is None:
        return []
    links, seen = [], set()
    for element in root.iter():
        name = _local(element.tag)
        if name not in ("item", "entry"):
            continue
        href = _atom_link(element) if name == "entry" else _text_of(element, "link")
        if not href:
            continue
        url = urljoin(fetched.url, href.strip())
        if urlsplit(url).scheme not in ("http", "https") or url in seen:
            continue
        seen.add(url)
        links.append(FeedLink(url, _text_of(element, "title"),
                              _iso_date(_text_of(element, "pubdate", "published", "updated", "date"))))
    return links[:MAX_FEED_ITEMS]


def _page_item(source: str, fetched: Fetched, link: FeedLink | None = None) -> RawItem:
    form = "text" if fetched.content_type == "text/plain" else "html" if "html" in fetched.content_type else "auto"
    return RawItem(source=source, data=fetched.body, url=fetched.url, form=form, declared_encoding=fetched.charset,
                   title=link.title if link else None, published=link.published if link else None)


def iter_url(url: str, max_bytes: int, client: httpx.Client | None = None) -> Iterator[RawItem | ItemFailure]:
    """The page at `url`, or each page a feed at `url` links to (fetched one by one)."""
    own = client is None
    client = client or new_client()
    try:
        try:
            fetched = fetch(client, url, max_bytes)
        except FetchError as err:
            yield ItemFailure(url, str(err))
            return
        if not looks_like_feed(fetched):
            yield _page_item(url, fetched)
            return
        links = feed_links(fetched)
        if not links:
            yield ItemFailure(url, "feed without item links")
        for link in links:
            try:
                yield _page_item(link.url, fetch(client, link.url, max_bytes), link)
            except FetchError as err:
                yield ItemFailure(link.url, str(err))
    finally:
        if own:
            client.close()
