"""The one Jinja2 environment for every HTML tabayyun renders (workbench pages and reports).

Autoescaping is on for everything: scraped text is hostile, and only values built by tabayyun's own
code as `markupsafe.Markup` (highlighted paragraphs, SVG charts) are inserted unescaped.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, select_autoescape


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("tabayyun.web", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["percent"] = lambda value: "" if value is None else f"{round(float(value) * 100)}%"
    env.filters["day"] = lambda value: (value or "")[:10]
    return env
