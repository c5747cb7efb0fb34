"""Shared fixtures for the tabayyun test suite: workspaces on either backend, a CLI runner and synthetic
Arabic articles.

TABAYYUN_TEST_BACKEND=postgres (with TABAYYUN_TEST_POSTGRES, a postgresql:// address of a database the
role may create schemas in) runs every test that opens a workspace on a fresh PostgreSQL schema
instead of a SQLite file; tests about SQLite files as such are marked `sqlite_only` and skipped there.
"""

from __future__ import annotations

import json
import os
import sqlite3
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest

from tabayyun.sample import sample_manifest, sample_path
from tabayyun.store import open_storage

BACKEND = os.environ.get("TABAYYUN_TEST_BACKEND", "sqlite")
POSTGRES_URL = os.environ.get("TABAYYUN_TEST_POSTGRES", "")

# Embedding each ingested document's lead for search costs tens of milliseconds per document on CPU:
# the suite runs with embeddings off, and tests/test_search.py switches them on where they are the point.
os.environ.setdefault("TABAYYUN_EMBEDDINGS", "off")


# Small word lists combined into distinct, realistic-looking Arabic news articles.
NAMES = ["سالم الحربي", "منى العتيبي", "خالد الزين", "ليلى الصافي", "يوسف النمر", "هدى البدري", "عمر الراشد"]
CITIES = ["مرفأ الريحان", "رأس الغزال", "دار الصفا", "قصر العقيق", "وادي النخيل", "جبل السرو", "عين الماء"]
DAYS = ["السبت", "الأحد", "الاثنين", "الثلاثاء", "الأربعاء", "الخميس"]
TOPICS = ["المياه", "الكهرباء", "النقل العام", "التعليم", "الصحة", "الزراعة", "الإسكان", "السياحة"]
ORGS = ["وزارة الداخلية", "وزارة المالية", "هيئة الموانئ", "المجلس البلدي", "وزارة الصحة", "هيئة الطيران"]
NUMBERS = ["الأول", "الثاني", "الثالث", "الرابع", "الخامس", "السادس", "السابع", "الثامن", "التاسع"]


def synthetic_article(n: int) -> str:
    """Article number `n` as flattened text: a title line, a blank line, then 4-6 paragraph lines.

    Every paragraph has at least 12 words and carries a number derived from `n`, so no two articles
    share a paragraph. Only characters that Windows-1256 can encode are used."""
    name, city = NAMES[n % len(NAMES)], CITIES[(n // 7) % len(CITIES)]
    day, topic = DAYS[n % len(DAYS)], TOPICS[(n // 3) % len(TOPICS)]
    org, order = ORGS[(n // 5) % len(ORGS)], NUMBERS[n % len(NUMBERS)]
    an = n + 2
    title = f"{org} تعقد الاجتماع رقم {n} لبحث ملف {topic} في {city}"
    paragraphs = [
        f"وقال المتحدث باسم {org} {name} إن الاجتماع رقم {n} سيعقد في مدينة {city} يوم {day} المقبل"
        f" بحضور ممثلين عن القطاعات المعنية بملف {topic}.",
        f"وأضاف {name} أن جدول الأعمال يتضمن مراجعة خطة {topic} للعام الحالي وتقييم ما أنجز منها"
        f" خلال الأسبوع {order} من الشهر، مع بحث {an} مقترحاً قدمتها البلديات.",
        f"وأشار المتحدث إلى أن سكان {city} طالبوا مراراً بتحسين خدمات {topic}، وأن الاجتماع سيناقش"
        f" تخصيص ميزانية إضافية تقدر بنحو {n * 3 + 11} مليون دينار لهذا الغرض.",
        f"ومن المنتظر أن يصدر عن الاجتماع {an} بيان ختامي يحدد الأولويات والجداول الزمنية للتنفيذ،"
        f" على أن تعرض نتائجه على مجلس الوزراء في جلسته المقبلة يوم {day}.",
    ]
    extra = [
        f"وكانت {org} قد أعلنت الشهر الماضي عن سلسلة لقاءات تشاورية في {city} شارك فيها خبراء"
        f" ومواطنون لمناقشة واقع {topic} في المنطقة، وبلغ عدد المشاركين فيها {n + 40} مشاركاً.",
        f"ويأتي هذا الاجتماع في إطار خطة حكومية أوسع تهدف إلى تطوير قطاع {topic} في المحافظات"
        f" الشمالية خلال السنوات الخمس المقبلة، وفق ما أكده {name} في تصريحه رقم {an}.",
    ]
    paragraphs += extra[: n % 3]
    return title + "\n\n" + "\n\n".join(paragraphs) + "\n"


def write_articles(folder: Path, count: int, start: int = 0, encoding: str = "utf-8") -> list[Path]:
    """Write articles start..start+count-1 as .txt files under `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(start, start + count):
        path = folder / f"article_{n:05d}.txt"
        path.write_bytes(synthetic_article(n).encode(encoding))
        paths.append(path)
    return paths


@pytest.fixture(scope="session")
def articles():
    """The synthetic-article helpers: `articles.text(n)`, `articles.write(folder, count, start=0)`."""

    class Articles:
        text = staticmethod(synthetic_article)
        write = staticmethod(write_articles)

    return Articles


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return sample_path()


@pytest.fixture(scope="session")
def manifest(sample_dir) -> list[dict]:
    return sample_manifest()


@pytest.fixture
def cli_env(tmp_path) -> dict:
    """An environment for CLI subprocesses: no inherited TABAYYUN_DB, wide output (rich wraps at COLUMNS)."""
    env = {k: v for k, v in os.environ.items() if k != "TABAYYUN_DB"}
    env.update({"COLUMNS": "1000", "NO_COLOR": "1", "TERM": "dumb", "PYTHONIOENCODING": "utf-8"})
    return env


def kill_when(command: list[str], env: dict, cwd: Path, ready: Callable[[], bool], what: str) -> None:
    """Start `tabayyun ...` as a process, SIGKILL it as soon as `ready()` (polled; an exception counts as
    not yet), and check that it was killed, not finished."""
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if ready():
                    break
            except Exception:  # noqa: BLE001 - no file, no schema, or a table being written, yet
                pass
            time.sleep(0.005)
        assert proc.poll() is None, f"the {what} finished before it could be killed: grow the corpus"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


@pytest.fixture
def cli(cli_env, tmp_path):
    """Run `python -m tabayyun.cli ARGS...` in a subprocess; returns the CompletedProcess (text mode).

    Keyword arguments: `input` (str or bytes for stdin), `env` (extra variables; None removes one),
    `cwd` (default tmp_path)."""

    def run(*args, input=None, env=None, cwd=None, timeout=120) -> subprocess.CompletedProcess:
        full_env = dict(cli_env)
        for key, value in (env or {}).items():
            if value is None:
                full_env.pop(key, None)
            else:
                full_env[key] = value
        data = input.encode("utf-8") if isinstance(input, str) else input
        proc = subprocess.run(
            [sys.executable, "-m", "tabayyun.cli", *[str(a) for a in args]],
            input=data, capture_output=True, env=full_env, cwd=str(cwd or tmp_path), timeout=timeout,
        )
        proc.stdout = proc.stdout.decode("utf-8")
        proc.stderr = proc.stderr.decode("utf-8")
        return proc

    return run


# Workspaces on the backend under test ---------------------------------------------------------------
def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only(reason): about SQLite files as such; skipped when the"
                                       " suite runs on PostgreSQL (TABAYYUN_TEST_BACKEND=postgres)")
    if BACKEND not in ("sqlite", "postgres"):
        raise pytest.UsageError(f"TABAYYUN_TEST_BACKEND must be sqlite or postgres, not {BACKEND!r}")
    if BACKEND == "postgres" and not POSTGRES_URL.startswith(("postgresql://", "postgres://")):
        raise pytest.UsageError("TABAYYUN_TEST_BACKEND=postgres needs TABAYYUN_TEST_POSTGRES (a postgresql:// URL)")


def pytest_collection_modifyitems(config, items):
    if BACKEND != "postgres":
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker:
            reason = marker.args[0] if marker.args else marker.kwargs.get("reason", "about SQLite files")
            item.add_marker(pytest.mark.skip(reason=f"sqlite only: {reason}"))


def postgres_schema_url(schema: str) -> str:
    """The test database's address with `schema` as the search path (the workspace lives there)."""
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"


class Workspaces:
    """Workspace addresses on a backend (default: the one under test): a SQLite file in a folder, or
    the address of a fresh PostgreSQL schema (dropped by `drop_all`, at the end of the session)."""

    def __init__(self, backend: str = BACKEND):
        self.backend = backend
        self.schemas: list[str] = []

    def new(self, folder: Path, name: str = "workspace") -> str:
        if self.backend == "sqlite":
            return str(Path(folder) / f"{name}.db")
        import psycopg

        schema = f"tabayyun_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        self.schemas.append(schema)
        return postgres_schema_url(schema)

    def copy(self, source: str, folder: Path, name: str = "copy") -> str:
        """A new workspace holding what `source` holds (for tests that write to a shared one)."""
        target = self.new(folder, name)
        if self.backend == "sqlite":
            with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
                src.backup(dst)
            return target
        from tabayyun.store.migrate import copy_workspace

        reader, writer = open_storage(source, readonly=True), open_storage(target)
        try:
            copy_workspace(reader, writer)
        finally:
            reader.close(), writer.close()
        return target

    def query(self, address: str, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of one SQL statement (`?` placeholders) read from the workspace at `address`."""
        storage = open_storage(address, readonly=True)
        try:
            return [tuple(row) for row in storage.conn.execute(sql, params).fetchall()]
        finally:
            storage.close()

    def drop_all(self) -> None:
        if not self.schemas:
            return
        import psycopg

        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="session")
def workspaces():
    """The session's `Workspaces`: `.new(folder, name)`, `.copy(address, folder)`, `.query(address, sql)`."""
    made = Workspaces()
    yield made
    made.drop_all()


@pytest.fixture
def workspace_address(workspaces, tmp_path):
    """`workspace_address(name="workspace")`: a new, empty workspace address for this test."""

    def make(name: str = "workspace") -> str:
        return workspaces.new(tmp_path, name)

    return make


# --- a pile of pages from one site ------------------------------------------------------------------
# Written for these tests: three articles of one invented site, each followed by the same teaser of
# another article, a full sentence that one page alone cannot tell from the article's own prose.
_SITE_FURNITURE = ("وفي المدينة نفسها أعلنت وزارة الزراعة أن موسم الحصاد سيبدأ مطلع الشهر المقبل في المحافظات "
                   "الشمالية.")
_SITE_ARTICLES = [
    ["افتتاح جسر جديد فوق النهر في المدينة",
     "افتتح محافظ المدينة صباح اليوم الجسر الجديد الذي يربط ضفتي النهر بعد عامين من أعمال البناء المتواصلة.",
     "وقال المحافظ في كلمة خلال الافتتاح إن الجسر سيخفف الازدحام عن الطرق القديمة في وسط المدينة.",
     "وأضاف أن الأعمال في الجسر الثاني ستبدأ مطلع العام المقبل بتمويل من الموازنة المحلية."],
    ["المنتخب الوطني يفوز في مباراته الودية",
     "فاز المنتخب الوطني لكرة القدم على ضيفه بهدفين دون رد في المباراة الودية التي أقيمت مساء أمس.",
     "وسجل الهدفين مهاجم الفريق في الشوط الثاني بعد تمريرتين من لاعب الوسط الشاب.",
     "وقال المدرب بعد المباراة إن الفريق يستعد جيدا للتصفيات التي تنطلق في الشهر المقبل."],
    ["ارتفاع أسعار الخضار في الأسواق المحلية",
     "شهدت أسواق الخضار ارتفاعا ملحوظا في الأسعار خلال الأسبوع الحالي بسبب موجة البرد التي ضربت البلاد.",
     "وأرجع تجار في سوق الجملة الارتفاع إلى تراجع الكميات الواردة من المزارع القريبة من العاصمة.",
     "ويتوقع التجار أن تعود الأسعار إلى مستواها السابق مع تحسن الطقس في الأيام القادمة."],
]


def _write_pages(path: Path, pages: list[tuple[str, str]]) -> Path:
    """(url, text) pages as a JSONL file of records."""
    path.write_text("".join(json.dumps({"url": url, "text": text}, ensure_ascii=False) + "\n" for url, text in pages),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def site_pile(tmp_path_factory) -> SimpleNamespace:
    """Three pages of one site as (url, text) `pages`, the same as a JSONL file at `path`, the
    `furniture` line every page ends with, and `write(path, pages)` for other JSONL files of them."""
    pages = [(f"https://news.example.org/article/{n}", "\n".join([*lines, _SITE_FURNITURE]))
             for n, lines in enumerate(_SITE_ARTICLES)]
    path = _write_pages(tmp_path_factory.mktemp("pile") / "pile.jsonl", pages)
    return SimpleNamespace(pages=pages, path=path, furniture=_SITE_FURNITURE, write=_write_pages)
