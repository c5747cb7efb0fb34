"""The `tabayyun` command line, through real subprocesses: output formats, exit codes, stdin, workspaces."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys

import pytest

from tabayyun.pipeline import document_id
from tabayyun.store import LATEST_VERSION, display_address

ANALYZE_KEYS = {"id", "path", "title", "outlet", "published", "published_evidence", "language", "paragraphs",
                "removed"}
SUMMARY = re.compile(r"^(\d+) stored, (\d+) skipped as duplicate, (\d+) failed\b")


def json_objects(stdout: str) -> list[dict]:
    """Parse a stream of concatenated (pretty-printed) JSON objects."""
    decoder, objects, pos = json.JSONDecoder(), [], 0
    while True:
        while pos < len(stdout) and stdout[pos].isspace():
            pos += 1
        if pos == len(stdout):
            return objects
        obj, pos = decoder.raw_decode(stdout, pos)
        objects.append(obj)


def summary_of(stderr: str) -> tuple[int, int, int]:
    found = [SUMMARY.match(line) for line in stderr.splitlines()]
    found = [m for m in found if m]
    assert len(found) == 1, stderr
    return tuple(int(g) for g in found[0].groups())


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def check_analyze_object(obj: dict) -> None:
    assert ANALYZE_KEYS <= set(obj)
    assert isinstance(obj["paragraphs"], list) and obj["paragraphs"]
    assert all(isinstance(p, str) and p for p in obj["paragraphs"])
    assert isinstance(obj["removed"], list)
    for block in obj["removed"]:
        assert isinstance(block, dict) and isinstance(block["text"], str) and isinstance(block["kind"], str)
    assert re.fullmatch(r"[0-9a-f]{16}", obj["id"])


@pytest.fixture
def pages(tmp_path, articles):
    return articles.write(tmp_path / "pages", 3)


# --- analyze ----------------------------------------------------------------------------------------


def test_analyze_json_objects(cli, sample_dir, manifest):
    files = [sample_dir / "cholera_02_denial_alsahil_today.txt",
             sample_dir / "flights_03_embassy_inaccurate_almawja.html"]
    result = cli("analyze", *files, "--format", "json")
    assert result.returncode == 0, result.stderr
    objects = json_objects(result.stdout)
    assert [o["path"] for o in objects] == [str(f) for f in files]
    for obj in objects:
        check_analyze_object(obj)
        assert obj["language"] == "ar"
        assert obj["removed"], "both sample pages carry boilerplate"
    by_file = {e["file"]: e for e in manifest}
    for obj, path in zip(objects, files):
        assert obj["published"] == by_file[path.name]["published"]
        assert obj["published_evidence"]["source"]
        assert obj["encoding"] == "cp1256"


def test_analyze_jsonl_one_object_per_line(cli, pages, articles):
    result = cli("analyze", *pages, "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(pages) == 3
    objects = [json.loads(line) for line in lines]
    for n, obj in enumerate(objects):
        check_analyze_object(obj)
        assert obj["id"] == document_id(articles.text(n))
        assert obj["title"] == articles.text(n).splitlines()[0]
        assert len(obj["paragraphs"]) == 4 + n % 3


def test_analyze_text_format(cli, pages, articles):
    result = cli("analyze", pages[0], "--format", "text")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert document_id(articles.text(0)) in out
    assert re.search(r"^title\s+" + re.escape(articles.text(0).splitlines()[0]), out, re.M)
    assert re.search(r"^language\s+ar\b", out, re.M)
    assert "[0] وقال المتحدث" in out and "[3] " in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


def test_analyze_missing_file_reports_and_goes_on(cli, pages, tmp_path):
    missing = tmp_path / "missing.txt"
    result = cli("analyze", pages[0], missing, pages[1], "--format", "jsonl")
    assert result.returncode == 2
    assert error_lines(result.stderr) == [f"error: {missing}: no such file or folder"]
    assert len(result.stderr.strip().splitlines()) == 1
    assert [json.loads(line)["path"] for line in result.stdout.splitlines()] == [str(pages[0]), str(pages[1])]


def test_analyze_rejects_unknown_format(cli, pages):
    result = cli("analyze", pages[0], "--format", "xml")
    assert result.returncode == 2  # a usage error
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["analyze", "show"])
def test_json_output_is_the_text_verbatim(cli, shared, command):
    # Scraped text may hold rich emoji codes (":warning:") or markup: JSON must carry it unchanged.
    if command == "analyze":
        result = cli("analyze", shared.emoji, "--format", "json")
    else:
        result = cli("show", shared.emoji_id[:8], "--db", shared.db, "--format", "json")
    assert result.returncode == 0, result.stderr
    [obj] = json_objects(result.stdout)
    assert obj["paragraphs"] == [EMOJI_SENTENCE]


# --- ingest -----------------------------------------------------------------------------------------


def test_ingest_all_good_exits_0(cli, pages, tmp_path, workspace_address, workspaces):
    db = workspace_address("w")
    result = cli("ingest", tmp_path / "pages", "--db", db)
    assert result.returncode == 0, result.stderr
    assert summary_of(result.stderr) == (3, 0, 0)
    assert error_lines(result.stderr) == []
    assert workspaces.query(db, "SELECT count(*) FROM documents") == [(3,)]
    again = cli("ingest", tmp_path / "pages", "--db", db)
    assert again.returncode == 0
    assert summary_of(again.stderr) == (0, 3, 0)


def test_ingest_some_failed_exits_2_with_one_line_per_bad_item(cli, pages, tmp_path, workspace_address, workspaces):
    bad = {"empty.txt": b"", "photo.png": b"\x89PNG\r\n\x1a\n" + bytes(100), "numbers.txt": b"1 2 3 4\n" * 10}
    for name, data in bad.items():
        (tmp_path / "pages" / name).write_bytes(data)
    missing = tmp_path / "missing.txt"
    db = workspace_address("w")
    result = cli("ingest", tmp_path / "pages", tmp_path / "pages" / "photo.png", missing, "--db", db,
                 env={"COLUMNS": "1000"})
    assert result.returncode == 2
    assert summary_of(result.stderr) == (3, 0, 4)
    errors = error_lines(result.stderr)
    assert len(errors) == 4
    assert f"error: {tmp_path / 'pages' / 'numbers.txt'}: no text in input (no letters found)" in errors
    assert f"error: {tmp_path / 'pages' / 'empty.txt'}: empty input" in errors
    assert f"error: {missing}: no such file or folder" in errors
    assert any("photo.png" in e and "PNG" in e for e in errors)
    # .png is not a page suffix: in a folder it is skipped, but named explicitly it is read (and refused).
    assert sum("photo.png" in e for e in errors) == 1
    assert all(line.startswith("error: ") or SUMMARY.match(line) for line in result.stderr.splitlines() if line)
    rows = workspaces.query(db, "SELECT source FROM ingest_failures")
    assert len(rows) == 4


def test_error_lines_are_not_wrapped_on_a_pipe(cli, tmp_path, workspace_address):
    deep = tmp_path / "a_rather_long_folder_name_for_the_crawl" / "another_level_of_nesting"
    deep.mkdir(parents=True)
    (deep / "empty_page_from_the_crawler.txt").write_bytes(b"")
    # A pipe with no COLUMNS set: what a cron job or `2> ingest.log` sees.
    result = cli("ingest", deep, "--db", workspace_address("w"), env={"COLUMNS": None})
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[0] == f"error: {deep / 'empty_page_from_the_crawler.txt'}: empty input"
    assert len(lines) == 2 and SUMMARY.match(lines[1])


@pytest.mark.sqlite_only("a workspace file that cannot be created")
@pytest.mark.parametrize("where", ["missing_dir", "directory"])
def test_ingest_fatal_workspace_error_exits_1(cli, pages, tmp_path, where):
    db = tmp_path / "no" / "such" / "dir" / "w.db" if where == "missing_dir" else tmp_path / "pages"
    result = cli("ingest", tmp_path / "pages", "--db", db)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"fatal: cannot open workspace {db}")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "no").exists()


@pytest.mark.sqlite_only("writes PRAGMA user_version into a file")
def test_ingest_fatal_on_newer_workspace(cli, pages, tmp_path):
    db = tmp_path / "future.db"
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 5}")
    conn.commit()
    conn.close()
    result = cli("ingest", tmp_path / "pages", "--db", db)
    assert result.returncode == 1
    assert "upgrade tabayyun" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_ingest_page_from_stdin(cli, tmp_path, sample_dir, workspace_address, workspaces):
    db = workspace_address("w")
    data = (sample_dir / "flights_04_partial_cut_alsunbula.txt").read_bytes()  # cp1256 bytes
    result = cli("ingest", "-", "--db", db, input=data)
    assert result.returncode == 0, result.stderr
    assert summary_of(result.stderr) == (1, 0, 0)
    [row] = workspaces.query(db, "SELECT source, encoding, outlet FROM documents")
    assert row == ("<stdin>", "cp1256", "السنبلة")


def test_ingest_jsonl_from_stdin(cli, tmp_path, articles, workspace_address, workspaces):
    db = workspace_address("w")
    lines = [json.dumps({"text": articles.text(n), "outlet": "رصيف", "date": f"2024-06-0{n + 1}"},
                        ensure_ascii=False) for n in range(3)]
    lines.insert(1, "{broken")
    result = cli("ingest", "-", "--db", db, input="\n".join(lines) + "\n")
    assert result.returncode == 2
    assert summary_of(result.stderr) == (3, 0, 1)
    assert error_lines(result.stderr) == ["error: <stdin>:2: malformed JSON line: Expecting property name enclosed "
                                          "in double quotes"]
    rows = workspaces.query(db, "SELECT source, outlet, published FROM documents ORDER BY rowid")
    assert rows == [("<stdin>:1", "رصيف", "2024-06-01"), ("<stdin>:3", "رصيف", "2024-06-02"),
                    ("<stdin>:4", "رصيف", "2024-06-03")]


# --- list and show ----------------------------------------------------------------------------------


MARKUP_TITLE = "بيان [bold red]عاجل[/] من الوزارة"
MARKUP_SENTENCE = ("وقال المتحدث إن [link=https://evil.example]الرابط[/link] و[red]النص[/red] يظهران كما هما"
                   " في الصفحة المنشورة.")
EMOJI_SENTENCE = "وقال المسؤول إن :warning: الاجتماع سيعقد غداً في المدينة بحضور عدد كبير من المسؤولين والخبراء."


@pytest.fixture(scope="module")
def shared(tmp_path_factory, articles, workspaces):
    """One workspace for the read-only list/show tests: three synthetic articles and two hostile pages."""
    from types import SimpleNamespace

    root = tmp_path_factory.mktemp("shared")
    pages = articles.write(root / "pages", 3)
    markup = root / "pages" / "z_markup.txt"
    markup.write_text(f"{MARKUP_TITLE}\n\n{MARKUP_SENTENCE}\n", encoding="utf-8")
    emoji = root / "pages" / "z_emoji.txt"
    emoji.write_text(f"عنوان الخبر هنا\n\n{EMOJI_SENTENCE}\n", encoding="utf-8")
    db = workspaces.new(root, "w")
    proc = subprocess.run([sys.executable, "-m", "tabayyun.cli", "ingest", str(root / "pages"), "--db", db],
                          capture_output=True, text=True, cwd=root, timeout=120)
    assert proc.returncode == 0, proc.stderr
    ids = [document_id(articles.text(n)) for n in range(3)]
    return SimpleNamespace(db=db, pages=pages, ids=ids, markup=markup, emoji=emoji,
                           markup_id=document_id(markup.read_text(encoding="utf-8")),
                           emoji_id=document_id(emoji.read_text(encoding="utf-8")))


def test_list_json(cli, shared):
    result = cli("list", "--db", shared.db, "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["id"] for r in rows} == {*shared.ids, shared.markup_id, shared.emoji_id}
    articles = [r for r in rows if r["id"] in shared.ids]
    assert all(r["paragraphs"] >= 4 and r["language"] == "ar" and r["format"] == "text" for r in articles)
    assert {r["source"] for r in articles} == {str(p) for p in shared.pages}
    limited = json.loads(cli("list", "--db", shared.db, "--format", "json", "--limit", "2", "--offset", "1").stdout)
    assert [r["id"] for r in limited] == [rows[1]["id"], rows[2]["id"]]


def test_list_text_table_prints_markup_literally(cli, shared):
    result = cli("list", "--db", shared.db)
    assert result.returncode == 0, result.stderr
    assert f"5 documents in {display_address(shared.db)}" in result.stdout
    lines = result.stdout.splitlines()
    assert len(lines) == 1 + 5  # a header, then one line per document however long its title
    for doc_id in shared.ids:
        assert any(line.startswith(doc_id[:12]) for line in lines[1:])
    assert MARKUP_TITLE in result.stdout


def test_show_by_id_prefix_json_and_raw(cli, shared, articles, workspaces):
    doc_id, ingested, pages = shared.ids[1], shared.db, shared.pages
    text = cli("show", doc_id, "--db", ingested)
    assert text.returncode == 0, text.stderr
    assert doc_id in text.stdout and str(pages[1]) in text.stdout
    assert "[0] وقال المتحدث" in text.stdout

    as_json = cli("show", doc_id[:7], "--db", ingested, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    [obj] = json_objects(as_json.stdout)
    check_analyze_object(obj)
    assert obj["id"] == doc_id and obj["path"] == str(pages[1])
    stored = [row[0] for row in workspaces.query(
        ingested, "SELECT text FROM paragraphs WHERE doc_id = ? ORDER BY idx", (doc_id,))]
    assert obj["paragraphs"] == stored and len(stored) == 5

    raw = cli("show", doc_id[:7], "--db", ingested, "--raw")
    assert raw.returncode == 0
    assert raw.stdout == articles.text(1) + "\n"


def test_show_unknown_or_ambiguous_id_exits_1(cli, shared):
    for wanted in ("ffffffffffff", ""):
        result = cli("show", wanted, "--db", shared.db)
        assert result.returncode == 1
        assert result.stderr.startswith("error: no single document matches id")
        assert result.stdout == ""


def test_show_missing_workspace_exits_1(cli, tmp_path):
    result = cli("show", "abc", "--db", tmp_path / "nope.db")
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot open workspace")
    assert not (tmp_path / "nope.db").exists()


@pytest.mark.sqlite_only("a file that is not a workspace, or one with a newer PRAGMA user_version")
@pytest.mark.parametrize("kind", ["not_sqlite", "newer_schema"])
def test_list_on_a_bad_workspace_is_a_one_line_error(cli, tmp_path, kind):
    db = tmp_path / "bad.db"
    if kind == "not_sqlite":
        db.write_text("this is a text file, not a workspace\n" * 50)
    else:
        conn = sqlite3.connect(db)
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
        conn.commit()
        conn.close()
    result = cli("list", "--db", db)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"error: cannot open workspace {db}")


def test_rich_markup_in_scraped_text_is_printed_literally(cli, shared):
    shown = cli("show", shared.markup_id, "--db", shared.db)
    assert shown.returncode == 0, shown.stderr
    assert MARKUP_TITLE in shown.stdout
    assert MARKUP_SENTENCE in shown.stdout
    analyzed = cli("analyze", shared.markup, "--format", "text")
    assert analyzed.returncode == 0, analyzed.stderr
    assert MARKUP_SENTENCE in analyzed.stdout


# --- demo -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, workspaces):
    folder = tmp_path_factory.mktemp("demo")
    db = workspaces.new(folder, "demo")
    proc = subprocess.run([sys.executable, "-m", "tabayyun.cli", "demo", "--db", db], capture_output=True,
                          text=True, cwd=folder, timeout=120, env={**os.environ, "COLUMNS": "1000"})
    return db, proc


def test_demo_stores_the_sample_corpus(demo_run, manifest, workspaces):
    db, result = demo_run
    assert workspaces.query(db, "SELECT count(*) FROM documents") == [(len(manifest),)] == [(15,)]
    titles = {row[0] for row in workspaces.query(db, "SELECT title FROM documents")}
    assert len(titles & {e["title"] for e in manifest}) >= 12
    assert f"15 documents in {display_address(db)}" in result.stdout
    assert summary_of(result.stderr)[0] == 15


def test_demo_exits_0_without_errors(demo_run):
    # The sample folder also holds MANIFEST.json, which is not an article: demo must not trip on it.
    _, result = demo_run
    assert error_lines(result.stderr) == []
    assert result.returncode == 0


def test_terminal_escape_sequences_in_scraped_text_are_not_printed(cli, tmp_path):
    page = tmp_path / "hostile.txt"
    page.write_text("عنوان\n\nوقال الوزير إن الاجتماع \x1b]0;pwned\x07\x1b[2J سيعقد في العاصمة الأسبوع المقبل لبحث الأزمة.\n",
                    encoding="utf-8")
    result = cli("analyze", str(page), "--format", "text")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "سيعقد في العاصمة" in result.stdout


def test_a_broken_archive_or_deep_json_does_not_stop_the_batch(cli, tmp_path, articles, workspace_address):
    import zipfile

    folder = tmp_path / "in"
    folder.mkdir()
    broken = folder / "a_broken.zip"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("x.txt", articles.text(1))
    data = bytearray(broken.read_bytes())
    offset = data.index(articles.text(1).encode("utf-8")[:20])
    data[offset] ^= 0xFF  # the stored member no longer matches its CRC
    broken.write_bytes(bytes(data))
    (folder / "b_deep.json").write_text("[" * 100000 + "]" * 100000)
    (folder / "c_good.txt").write_text(articles.text(2), encoding="utf-8")
    result = cli("ingest", str(folder), "--db", workspace_address("w"), "--workers", "1")
    assert result.returncode == 2, result.stderr
    assert "1 stored" in result.stderr
    assert result.stderr.count("error:") == 2
