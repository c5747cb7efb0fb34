"""Entities across documents: one canonical name per entity for the whole workspace, with aliases.

Within an article the NER stage already links mentions ("إسبر" -> "مارك إسبر"); across articles the
same rule applies to canonicals: a one-word person canonical joins the only multi-word canonical of
the same type that ends with (or starts with) that word.
"""

from __future__ import annotations

from collections import defaultdict

from tabayyun.arabic import normalize_for_match
from tabayyun.understand.ner import find_entities

__all__ = ["find_entities", "group_mentions"]


def group_mentions(mentions: list[dict]) -> list[dict]:
    """Rows of {doc_id, text, type, canonical, role} grouped into entities: {canonical, type, aliases,
    roles, documents, mentions}, most mentioned first."""
    groups: dict[tuple[str, str], dict] = {}
    for row in mentions:
        key = (row["type"], normalize_for_match(row["canonical"]))
        group = groups.setdefault(key, {"canonical": row["canonical"], "type": row["type"], "aliases": set(),
                                        "roles": set(), "documents": set(), "mentions": 0})
        group["aliases"].add(row["text"])
        if row.get("role"):
            group["roles"].add(row["role"])
        group["documents"].add(row["doc_id"])
        group["mentions"] += 1
    _merge_short_names(groups)
    result = []
    for group in groups.values():
        result.append({**group, "aliases": sorted(group["aliases"]), "roles": sorted(group["roles"]),
                       "documents": len(group["documents"])})
    return sorted(result, key=lambda g: (-g["mentions"], g["canonical"]))


def _merge_short_names(groups: dict[tuple[str, str], dict]) -> None:
    by_word: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for key in groups:
        words = key[1].split()
        if len(words) > 1:
            for word in (words[0], words[-1]):
                by_word[(key[0], word)].append(key)
    for key in list(groups):
        words = key[1].split()
        if len(words) != 1 or key[0] != "PER":
            continue
        targets = by_word.get((key[0], words[0]), [])
        if len(set(targets)) == 1:
            target = groups[targets[0]]
            short = groups.pop(key)
            target["aliases"] |= short["aliases"] | {short["canonical"]}
            target["roles"] |= short["roles"]
            target["documents"] |= short["documents"]
            target["mentions"] += short["mentions"]
