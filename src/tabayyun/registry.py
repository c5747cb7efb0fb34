"""The registry of agencies and outlets (`resources/sources.tsv`): canonical ids for names pages use."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from tabayyun.arabic import normalize_for_match


@dataclass(frozen=True)
class KnownSource:
    id: str
    kind: str  # "agency" or "outlet"
    name: str


@lru_cache(maxsize=1)
def _aliases() -> dict[str, KnownSource]:
    table: dict[str, KnownSource] = {}
    text = resources.files("tabayyun").joinpath("resources/sources.tsv").read_text(encoding="utf-8")
    for row in text.splitlines():
        if not row.strip() or row.startswith("#"):
            continue
        source_id, kind, name, aliases = row.split("\t")
        known = KnownSource(source_id, kind, name)
        for alias in aliases.split("|") + [name]:
            table[normalize_for_match(alias)] = known
    return table


def lookup(name: str) -> KnownSource | None:
    """The registry entry a name refers to, ignoring quotes, a leading وكالة and spelling variants."""
    key = normalize_for_match(name).strip(" \"'«»“”()[]-–:.")
    for prefix in ("وكاله ", "لوكاله ", "موقع ", "قناه ", "صحيفه "):
        if key.startswith(prefix) and key[len(prefix):] in _aliases():
            return _aliases()[key[len(prefix):]]
    return _aliases().get(key)


def longest_match(words: list[str]) -> tuple[KnownSource, int] | None:
    """The registry entry named by the longest run of `words` from the first one, and its length."""
    for size in range(len(words), 0, -1):
        known = lookup(" ".join(words[:size]))
        if known:
            return known, size
    return None
