"""Decoding raw bytes into text, rejecting bad input, and the readers that turn paths into items."""

from __future__ import annotations

import codecs
import gzip
import json
import random
import re
import zipfile
from io import BytesIO

import pytest

from tabayyun.pipeline import ItemError, RawItem, document_id, make_document, process
from tabayyun.sources.decode import decode_bytes
from tabayyun.sources.readers import ItemFailure, iter_items

ARABIC_LETTER = re.compile("[\u0621-\u064a]")


def arabic_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    return sum(1 for ch in letters if ARABIC_LETTER.match(ch)) / len(letters)


def items_of(*paths, max_bytes: int = 5_000_000) -> list:
    return list(iter_items([str(p) for p in paths], max_bytes))


# --- decoding ---------------------------------------------------------------------------------------


def test_manifest_covers_every_encoding(manifest):
    # The sample corpus is what the decoding tests below rely on: make sure it still spans the encodings.
    assert {e["encoding"] for e in manifest} == {"utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1256"}
    assert len(manifest) == 15


@pytest.mark.parametrize("index", range(15))
def test_sample_page_decodes_to_manifest_encoding(sample_dir, manifest, index):
    entry = manifest[index]
    data = (sample_dir / entry["file"]).read_bytes()
    text, encoding = decode_bytes(data)
    assert encoding == entry["encoding"], entry["file"]
    assert "\ufffd" not in text
    assert arabic_share(text) > (0.3 if entry["form"] == "html" else 0.6)  # HTML carries Latin markup words
    # The manifest title is in the page, verbatim once HTML entities are left aside.
    assert entry["title"].split(":")[-1].strip()[:20] in text
    doc = make_document(RawItem(source=entry["file"], data=data))
    assert doc.encoding == entry["encoding"]
    assert doc.format == entry["form"]
    assert not doc.text.startswith("\ufeff")
    assert "\r" not in doc.text


def test_sample_bom_and_bomless_utf16_really_are_what_the_manifest_says(sample_dir, manifest):
    by_encoding = {e["encoding"]: sample_dir / e["file"] for e in manifest}
    assert by_encoding["utf-16"].read_bytes()[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    assert by_encoding["utf-8-sig"].read_bytes()[:3] == codecs.BOM_UTF8
    bomless = by_encoding["utf-16-le"].read_bytes()
    assert bomless[:2] not in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    text, encoding = decode_bytes(bomless)
    assert encoding == "utf-16-le"
    assert text == bomless.decode("utf-16-le")


def test_same_page_in_every_encoding_gets_one_id(articles):
    text = articles.text(7)
    ids = set()
    for encoding in ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1256"):
        doc = make_document(RawItem(source=encoding, data=text.encode(encoding)))
        ids.add(doc.id)
    # CRLF line endings do not change the id either.
    ids.add(make_document(RawItem(source="crlf", data=text.replace("\n", "\r\n").encode("utf-8"))).id)
    assert ids == {document_id(text)}


def test_cp1256_html_with_meta_charset(articles):
    body = articles.text(3).split("\n\n")
    html = (
        '<!DOCTYPE html><html dir="rtl" lang="ar"><head>'
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">'
        f"<title>{body[0]}</title></head><body><article><h1>{body[0]}</h1>"
        + "".join(f"<p>{p}</p>" for p in body[1:])
        + "</article></body></html>"
    )
    data = html.encode("cp1256")
    text, encoding = decode_bytes(data)
    assert encoding == "cp1256"
    assert text == html
    doc = process(RawItem(source="page.html", data=data))
    assert doc.format == "html"
    assert doc.encoding == "cp1256"
    assert doc.title == body[0].strip()
    assert any(body[1].strip()[:40] in p for p in doc.paragraphs)


def test_meta_charset_wins_over_detection(articles):
    # ISO-8859-6 bytes look like plausible Windows-1256 too; only the declaration tells them apart.
    paragraph = "وقال المتحدث إن الاجتماع سيعقد في مدينة دار الصفا يوم الأحد المقبل بحضور الوزراء"
    html = f'<html><head><meta charset="iso-8859-6"></head><body><p>{paragraph}</p></body></html>'
    text, encoding = decode_bytes(html.encode("iso-8859-6"))
    assert codecs.lookup(encoding).name == codecs.lookup("iso-8859-6").name
    assert paragraph in text


def test_declared_encoding_is_used_when_given():
    paragraph = "وقال المتحدث إن الاجتماع سيعقد في مدينة دار الصفا يوم الأحد المقبل بحضور الوزراء"
    text, encoding = decode_bytes(paragraph.encode("iso-8859-6"), declared="iso-8859-6")
    assert text == paragraph
    assert encoding == codecs.lookup("iso-8859-6").name


def test_undeclared_cp1256_page_is_detected(articles):
    text = articles.text(11)
    data = text.encode("cp1256")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    decoded, encoding = decode_bytes(data)
    assert encoding == "cp1256"
    assert decoded == text
    doc = process(RawItem(source="legacy.txt", data=data))
    assert doc.encoding == "cp1256"
    assert doc.title == text.splitlines()[0]
    assert len(doc.paragraphs) >= 4


def test_utf16_be_without_bom(articles):
    text = articles.text(12)
    data = text.encode("utf-16-be")
    assert not data.startswith(codecs.BOM_UTF16_BE)
    decoded, encoding = decode_bytes(data)
    assert encoding == "utf-16-be"
    assert decoded == text
    doc = process(RawItem(source="be.txt", data=data))
    assert doc.id == document_id(text)
    assert len(doc.paragraphs) >= 4


def test_html_is_sniffed_when_form_is_auto(articles):
    html = "<html><body><p>" + articles.text(1).replace("\n", " ") + "</p></body></html>"
    assert make_document(RawItem(source="x", data=html.encode())).format == "html"
    assert make_document(RawItem(source="x", data=articles.text(1).encode())).format == "text"
    # An explicit form (from a file suffix) wins over sniffing.
    assert make_document(RawItem(source="x.txt", data=html.encode(), form="text")).format == "text"


# --- bad input --------------------------------------------------------------------------------------


def _junk_with_nuls() -> bytes:
    rng = random.Random(20240305)
    data = bytearray(rng.randrange(256) for _ in range(4096))
    data[100:104] = b"\x00\x00\x00\x00"
    return bytes(data)


BAD_INPUTS = {
    "empty": (b"", "empty input"),
    "whitespace": (b" \n\t\r\n   \n", "empty input"),
    "whitespace_str": ("  \n\t  ", "empty input"),
    "binary_junk": (_junk_with_nuls(), "binary"),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(64)), "PNG"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "PDF"),
    "no_letters": (b"1234 5678 -- !!! ... 99.5%\n2024-03-05 12:00\n" * 20, "no letters"),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_raises_one_line_item_error(name):
    data, expected = BAD_INPUTS[name]
    for call in (make_document, process):
        with pytest.raises(ItemError) as excinfo:
            call(RawItem(source=name, data=data))
        message = str(excinfo.value)
        assert expected.lower() in message.lower()
        assert "\n" not in message and message.strip() == message and message


def test_over_size_limit_raises_before_decoding(articles):
    data = articles.text(2).encode("utf-8")
    with pytest.raises(ItemError, match=r"too large: [\d,]+ bytes \(limit 1,000; see --max-bytes\)"):
        make_document(RawItem(source="big.txt", data=data), max_bytes=1000)
    with pytest.raises(ItemError, match="too large"):
        process(RawItem(source="big.txt", data=articles.text(2)), max_bytes=1000)  # str: counted in UTF-8 bytes
    # Exactly at the limit is fine.
    assert make_document(RawItem(source="ok.txt", data=data), max_bytes=len(data)).id == document_id(articles.text(2))


def test_bad_input_is_an_item_error_subclass_of_value_error():
    # Callers of the library may catch ValueError; an ItemError must never escape as something else.
    with pytest.raises(ValueError):
        process(RawItem(source="x", data=b"\x7fELF\x02\x01\x01" + bytes(200)))


# --- readers ----------------------------------------------------------------------------------------


def test_json_single_object(tmp_path, articles):
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"text": articles.text(1), "title": "عنوان", "url": "https://example.com/a"},
                               ensure_ascii=False, indent=2), encoding="utf-8")
    [item] = items_of(path)
    assert isinstance(item, RawItem)
    assert item.data == articles.text(1)
    assert item.form == "text"
    assert item.title == "عنوان"
    assert item.url == "https://example.com/a"
    assert item.source == f"{path}#1"


def test_json_list(tmp_path, articles):
    path = tmp_path / "many.json"
    records = [{"text": articles.text(n), "outlet": f"outlet {n}"} for n in range(3)]
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    found = items_of(path)
    assert [i.source for i in found] == [f"{path}#1", f"{path}#2", f"{path}#3"]
    assert [i.data for i in found] == [articles.text(n) for n in range(3)]
    assert [i.outlet for i in found] == ["outlet 0", "outlet 1", "outlet 2"]


def test_malformed_json_file_is_one_failure(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('[{"text": "abc"},\n {"text": ', encoding="utf-8")
    [failure] = items_of(path)
    assert isinstance(failure, ItemFailure)
    assert failure.source == str(path)
    assert failure.message.startswith("malformed JSON")


def test_jsonl_with_malformed_line_in_the_middle(tmp_path, articles):
    path = tmp_path / "dump.jsonl"
    lines = [json.dumps({"text": articles.text(n)}, ensure_ascii=False) for n in range(4)]
    lines.insert(2, '{"text": "unterminated')
    lines.insert(4, "")  # blank lines are skipped but still counted
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = items_of(path)
    assert [type(i).__name__ for i in found] == ["RawItem", "RawItem", "ItemFailure", "RawItem", "RawItem"]
    failure = found[2]
    assert failure.source == f"{path}:3"
    assert failure.message.startswith("malformed JSON line")
    assert [i.source for i in found if isinstance(i, RawItem)] == [f"{path}:{n}" for n in (1, 2, 4, 6)]
    assert [i.data for i in found if isinstance(i, RawItem)] == [articles.text(n) for n in range(4)]


def test_record_without_text_or_html_and_non_object_records(tmp_path, articles):
    path = tmp_path / "dump.jsonl"
    path.write_text("\n".join([
        json.dumps({"title": "headline only", "url": "https://example.com"}),
        json.dumps({"text": "   ", "html": ""}),
        json.dumps(["a", "list"]),
        json.dumps({"text": articles.text(0)}, ensure_ascii=False),
    ]), encoding="utf-8")
    found = items_of(path)
    assert [type(i).__name__ for i in found] == ["ItemFailure", "ItemFailure", "ItemFailure", "RawItem"]
    assert "no non-empty 'text' or 'html'" in found[0].message
    assert "no non-empty 'text' or 'html'" in found[1].message
    assert "expected an object" in found[2].message
    assert [f.source for f in found[:3]] == [f"{path}:1", f"{path}:2", f"{path}:3"]


def test_record_field_aliases(tmp_path, articles):
    path = tmp_path / "aliases.jsonl"
    path.write_text(json.dumps({
        "content": articles.text(4), "date": "2024-05-01", "source": "  وكالة الأنباء  ",
        "headline": "عنوان بديل", "link": "https://news.example/x",
    }, ensure_ascii=False) + "\n", encoding="utf-8")
    [item] = items_of(path)
    assert item.data == articles.text(4)
    assert item.form == "text"
    assert item.published == "2024-05-01"
    assert item.outlet == "وكالة الأنباء"
    assert item.title == "عنوان بديل"
    assert item.url == "https://news.example/x"
    doc = process(item)
    assert (doc.outlet, doc.published, doc.title) == ("وكالة الأنباء", "2024-05-01", "عنوان بديل")
    assert doc.outlet_evidence.source == "record field"


def test_record_with_html(tmp_path, articles):
    body = articles.text(5).split("\n\n")
    html = ("<html><body><article><h1>" + body[0] + "</h1>" + "".join(f"<p>{p}</p>" for p in body[1:])
            + "</article></body></html>")
    path = tmp_path / "pages.jsonl"
    path.write_text(json.dumps({"html": html, "text": "ignored when html is present"}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    [item] = items_of(path)
    assert item.form == "html"
    assert item.data == html
    doc = process(item)
    assert doc.format == "html"
    assert doc.encoding is None  # JSON string fields are already text
    assert any(body[2].strip()[:30] in p for p in doc.paragraphs)


def test_folder_is_walked_recursively_skipping_hidden_and_unknown(tmp_path, articles):
    root = tmp_path / "corpus"
    (root / "a" / "b").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "top.txt").write_text(articles.text(0), encoding="utf-8")
    (root / "a" / "page.HTML").write_text(f"<p>{articles.text(1)}</p>", encoding="utf-8")
    (root / "a" / "b" / "deep.txt").write_text(articles.text(2), encoding="utf-8")
    (root / "a" / "b" / "dump.jsonl").write_text(json.dumps({"text": articles.text(3)}, ensure_ascii=False),
                                                 encoding="utf-8")
    (root / ".hidden.txt").write_text("hidden", encoding="utf-8")
    (root / ".git" / "HEAD.txt").write_text("hidden too", encoding="utf-8")
    (root / "a" / ".draft.txt").write_text("hidden as well", encoding="utf-8")
    (root / "notes.md").write_text("# not a page", encoding="utf-8")
    (root / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / "a" / "b" / "script.js").write_text("var x = 1;", encoding="utf-8")
    found = items_of(root)
    assert all(isinstance(i, RawItem) for i in found)
    assert sorted(i.source for i in found) == sorted([
        str(root / "top.txt"), str(root / "a" / "page.HTML"), str(root / "a" / "b" / "deep.txt"),
        f"{root / 'a' / 'b' / 'dump.jsonl'}:1",
    ])
    forms = {i.source: i.form for i in found}
    assert forms[str(root / "a" / "page.HTML")] == "html"
    assert forms[str(root / "top.txt")] == "text"


def test_explicit_file_with_unknown_suffix_is_read(tmp_path, articles):
    path = tmp_path / "article.php"
    path.write_bytes(articles.text(6).encode("cp1256"))
    [item] = items_of(path)
    assert item.form == "auto"
    assert make_document(item).encoding == "cp1256"


def test_jsonl_of_any_size_is_streamed_and_only_its_lines_are_limited(tmp_path, articles):
    """A dump far over 20 times the item limit is read record by record; an overlong line and a line
    in another encoding are one failure each, and the lines after them are still read."""
    path = tmp_path / "dump.jsonl"
    texts = [articles.text(n % 6) for n in range(60)]
    texts[5] += "\u2028\rسطر"         # JSON strings may hold these unescaped: they end no line
    lines = [json.dumps({"text": text}, ensure_ascii=False).encode("utf-8") for text in texts]
    lines.insert(10, json.dumps({"text": "س" * 5000}, ensure_ascii=False).encode("utf-8"))
    lines.insert(20, json.dumps({"text": articles.text(1)}, ensure_ascii=False).encode("cp1256"))
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines))       # a BOM, and no newline at the end
    limit = max(len(line) for line in lines[:10] + lines[11:]) + 1
    assert path.stat().st_size > 20 * limit
    found = items_of(path, max_bytes=limit)
    failures = [(f.source, f.message) for f in found if isinstance(f, ItemFailure)]
    assert failures == [(f"{path}:11", f"line too large: over {limit:,} bytes (see --max-bytes)"),
                        (f"{path}:21", "JSON must be UTF-8")]
    assert [item.data for item in found if isinstance(item, RawItem)] == texts
    assert [item.source for item in found][-1] == f"{path}:62"
    from tabayyun.sources.readers import _from_records    # the reader of a Dask partition's lines

    # It numbers the same lines; the long one is left to the pipeline's own size check.
    assert [(i.source, getattr(i, "data", None)) for i in _from_records(str(path), path.read_bytes(), jsonl=True)
            if i.source != f"{path}:11"] == [(i.source, getattr(i, "data", None)) for i in found if i.source != f"{path}:11"]


def test_oversized_file_is_a_failure_from_the_reader(tmp_path, articles):
    path = tmp_path / "big.txt"
    path.write_bytes(articles.text(0).encode("utf-8") * 3)
    [failure] = items_of(path, max_bytes=1000)
    assert isinstance(failure, ItemFailure)
    assert failure.message.startswith("too large:")


def test_zip_with_txt_and_jsonl(tmp_path, articles):
    path = tmp_path / "bundle.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("pages/one.txt", articles.text(0).encode("cp1256"))
        archive.writestr("pages/", b"")
        archive.writestr("records.jsonl", "\n".join(
            json.dumps({"text": articles.text(n), "outlet": "الضفاف"}, ensure_ascii=False) for n in (1, 2)))
        archive.writestr("readme.md", "not a page")
    found = items_of(path)
    assert [i.source for i in found] == [f"{path}!pages/one.txt", f"{path}!records.jsonl:1", f"{path}!records.jsonl:2"]
    assert found[0].form == "text"
    assert make_document(found[0]).id == document_id(articles.text(0))
    assert [i.data for i in found[1:]] == [articles.text(1), articles.text(2)]
    assert {i.outlet for i in found[1:]} == {"الضفاف"}


def test_corrupt_zip_is_a_failure(tmp_path):
    path = tmp_path / "broken.zip"
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive" * 3)
    [failure] = items_of(path)
    assert failure == ItemFailure(str(path), "not a valid ZIP archive")


def test_zip_skips_hidden_members_like_a_folder_does(tmp_path, articles):
    path = tmp_path / "from_mac.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("pages/one.txt", articles.text(0))
        archive.writestr("__MACOSX/pages/._one.txt", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(64))
        archive.writestr("pages/.draft.txt", "draft")
    assert [i.source for i in items_of(path)] == [f"{path}!pages/one.txt"]


def _warc(path, records) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for url, content_type, payload in records:
            headers = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=BytesIO(payload),
                                                          http_headers=headers))


def _html_page(articles, n: int) -> str:
    body = articles.text(n).split("\n\n")
    return ("<html><head><title>" + body[0] + "</title></head><body><article><h1>" + body[0] + "</h1>"
            + "".join(f"<p>{p}</p>" for p in body[1:]) + "</article></body></html>")


def test_warc_gz_html_response_and_skipped_image(tmp_path, articles):
    path = tmp_path / "crawl.warc.gz"
    html = _html_page(articles, 8)
    _warc(path, [
        ("https://news.example/a", "text/html; charset=windows-1256", html.encode("cp1256")),
        ("https://news.example/logo.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(200))),
        ("https://news.example/b", "text/html", html.replace("<h1>", "<h1>ب ").encode("utf-8")),
    ])
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    found = items_of(path)
    assert [type(i).__name__ for i in found] == ["RawItem", "RawItem"]
    first, second = found
    assert first.url == "https://news.example/a"
    assert first.declared_encoding == "windows-1256"
    assert first.form == "html"
    assert first.source.startswith(f"{path}#")
    assert second.url == "https://news.example/b" and second.declared_encoding is None
    doc = process(first)
    assert doc.encoding == "cp1256"
    assert doc.url == "https://news.example/a"
    assert doc.id == document_id(html)
    assert doc.title == articles.text(8).splitlines()[0]


def test_corrupt_warc_gz_is_a_failure(tmp_path):
    path = tmp_path / "broken.warc.gz"
    rng = random.Random(7)
    path.write_bytes(bytes(rng.randrange(256) for _ in range(2048)))
    found = items_of(path)
    assert len(found) == 1 and isinstance(found[0], ItemFailure)
    assert found[0].source == str(path)
    assert found[0].message.startswith("broken WARC file")
    assert "\n" not in found[0].message


def test_truncated_warc_gz_is_reported(tmp_path, articles):
    whole = tmp_path / "whole.warc.gz"
    _warc(whole, [("https://news.example/a", "text/html; charset=utf-8", _html_page(articles, n).encode())
                  for n in range(3)])
    data = whole.read_bytes()
    truncated = tmp_path / "truncated.warc.gz"
    truncated.write_bytes(data[: len(data) // 3])
    with pytest.raises(EOFError):  # the precondition: the file really is cut short
        gzip.decompress(truncated.read_bytes())
    assert any(isinstance(i, ItemFailure) for i in items_of(truncated))


def test_missing_path_is_a_failure_and_the_rest_goes_on(tmp_path, articles):
    good = tmp_path / "good.txt"
    good.write_text(articles.text(0), encoding="utf-8")
    missing = tmp_path / "nope" / "missing.txt"
    found = items_of(missing, good)
    assert found[0] == ItemFailure(str(missing), "no such file or folder")
    assert isinstance(found[1], RawItem) and found[1].source == str(good)
