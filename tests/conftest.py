"""Shared fixtures for the tabayyun test suite: a CLI runner and synthetic Arabic articles."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tabayyun.sample import sample_manifest, sample_path

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
