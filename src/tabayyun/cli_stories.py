"""Story commands of the `tabayyun` CLI: stories, story and timeline (see `tabayyun.connect.stories`
and `tabayyun.connect.timeline`).

`tabayyun.cli` calls `register` with its app; parsing and printing only.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Optional

import typer

from tabayyun.cli_output import DbOption, FormatOption, _open_writable, _safe, _text, err, out, passage_line


def _check_format(fmt: str) -> None:
    if fmt not in ("text", "json"):
        raise typer.BadParameter("--format must be text or json")


def stories(db: Optional[str] = DbOption, fmt: str = FormatOption,
            entity: Optional[str] = typer.Option(None, "--entity", help="Only stories whose documents name it."),
            since: Optional[str] = typer.Option(None, "--since", help="Only stories still running on or after "
                                                                      "this date (YYYY-MM-DD)."),
            recluster: bool = typer.Option(False, "--recluster", help="Place every document again first, with "
                                           "this version's settings (story ids change).")) -> None:
    """Stories (events): articles clustered by lead meaning, shared stems and entities, within a time
    window; each with its label (most central headline), span, main entities and outlets."""
    from tabayyun.connect.stories import list_stories

    _check_format(fmt)
    if since:
        try:
            since = date.fromisoformat(since).isoformat()
        except ValueError:
            raise typer.BadParameter("--since must be a date, YYYY-MM-DD") from None
    storage = _open_writable(db)
    try:
        if recluster:
            storage.clear_stories()
        storage.cluster_missing()
        found = list_stories(storage, entity=entity, since=since)
    finally:
        storage.close()
    if fmt == "json":
        sys.stdout.write(json.dumps(found, ensure_ascii=False, indent=2) + "\n")
        return
    out.print(_text(f"{len(found)} stories", style="bold"))
    for story in found:
        _print_headline(story, f"{story['size']:>3} docs")
        out.print(_text(f"       entities: {', '.join(story['entities']) or '-'}; "
                        f"outlets: {', '.join(story['outlets']) or '-'}", style="dim"), soft_wrap=True)


def _print_headline(item: dict, counts: str) -> None:
    """One line for a story or a topic: id, date span, counts, label."""
    line = _text(f"{item['id']:>5}  {item['first'] or '----------'} .. {item['last'] or '----------'}  {counts}  ")
    line.append(_safe(item["label"] or "-"))
    out.print(line, soft_wrap=True)


def _story_query(db: Optional[str], what: str, fetch):
    """`fetch(storage)` on the workspace opened for writing; None from it means no such story (exit 1)."""
    storage = _open_writable(db)
    try:
        found = fetch(storage)
    finally:
        storage.close()
    if found is None:
        err.print(_text(f"error: no {what}"), soft_wrap=True)
        raise typer.Exit(1)
    return found


def _why(reason: dict) -> str:
    if reason.get("started"):
        closest, wordless = reason.get("closest"), reason.get("too_few_shared_words", [])
        notes = [f"closest story {closest['story']}: {closest['score']:.2f}"
                 + (f", which it would have stretched over {closest['span']} days" if "span" in closest else "")
                 ] if closest else []
        notes += [f"story {c['story']} alike in meaning ({c['score']:.2f}) but few shared words" for c in wordless[:1]]
        notes += [f"story {c['story']}: {c['days']} days outside its span" for c in reason.get("too_far", [])[:1]]
        return "started the story" + (f" ({'; '.join(notes)})" if notes else "")
    if reason.get("duplicate_of"):
        return f"near-duplicate of {reason['duplicate_of'][:12]}"
    parts = [f"{key} {reason[key]:.2f}" for key in ("score", "embedding", "terms", "entities") if key in reason]
    shared = ", ".join(reason.get("shared_entities", []))
    days = f"; {reason.get('days', 0)} days outside the span"
    return "; ".join(parts) + days + (f"; shared: {shared}" if shared else "")


def story(story_id: int = typer.Argument(..., help="Story id (from `tabayyun stories`)."),
          db: Optional[str] = DbOption, fmt: str = FormatOption,
          passages: bool = typer.Option(
              False, "--passages", help="Also the passages its documents share (a quoted letter, a reused paragraph).")
          ) -> None:
    """One story with its documents by date, each with why it joined (its similarity scores)."""
    from tabayyun.connect.stories import get_story

    _check_format(fmt)
    def fetch(storage):
        storage.cluster_missing()
        return get_story(storage, story_id, passages=passages)

    found = _story_query(db, f"story {story_id}", fetch)
    if fmt == "json":
        sys.stdout.write(json.dumps(found, ensure_ascii=False, indent=2) + "\n")
        return
    out.print(_text(f"story {found['id']}: {found['label'] or '-'}", style="bold"), soft_wrap=True)
    out.print(_text(f"{found['first'] or '?'} .. {found['last'] or '?'}, {found['size']} documents; entities: "
                    f"{', '.join(found['entities']) or '-'}; outlets: {', '.join(found['outlets']) or '-'}"),
              soft_wrap=True)
    for doc in found["documents"]:
        line = _text(f"  {doc['id'][:12]}  {doc['published'] or '----------'}  ")
        line.append(_safe(f"{(doc['outlet'] or '-')[:24]:<24}"), style="cyan")
        line.append(_safe(f"  {doc['title'] or '-'}"))
        out.print(line, soft_wrap=True)
        out.print(_text(f"      {_why(doc['reason'])}", style="dim"), soft_wrap=True)
    for pair in found.get("passages", []):
        out.print(_text(f"shared by {pair['a'][:12]} and {pair['b'][:12]}:", style="bold"), soft_wrap=True)
        for passage in pair["passages"]:
            out.print(_text(f"  {passage_line(passage)}"), soft_wrap=True)


def topics(db: Optional[str] = DbOption, fmt: str = FormatOption,
           min_stories: int = typer.Option(1, "--min-stories", help="Only topics of at least this many stories.")) -> None:
    """Topics: stories (events) on one long-running subject, grouped; each link between two stories
    with its similarity scores and shared entities."""
    from tabayyun.connect.topics import list_topics

    _check_format(fmt)
    storage = _open_writable(db)
    try:
        found = list_topics(storage, min_stories=min_stories)
    finally:
        storage.close()
    if fmt == "json":
        sys.stdout.write(json.dumps(found, ensure_ascii=False, indent=2) + "\n")
        return
    out.print(_text(f"{len(found)} topics", style="bold"))
    for topic in found:
        _print_headline(topic, f"{len(topic['stories']):>3} stories  {topic['size']:>3} docs")
        for link in topic["links"]:
            a, b = link["stories"]
            out.print(_text(f"       stories {a} ~ {b}: {_why(link)}", style="dim"), soft_wrap=True)


def timeline(story_id: Optional[int] = typer.Option(None, "--story", help="A story id (from `tabayyun stories`)."),
             topic_id: Optional[int] = typer.Option(None, "--topic", help="A topic id (from `tabayyun topics`)."),
             entity: Optional[str] = typer.Option(None, "--entity", help="The documents naming this entity."),
             claim: Optional[str] = typer.Option(None, "--claim", help="The documents about this claim."),
             embeddings: bool = typer.Option(False, "--embeddings", help="With --claim: hybrid retrieval "
                                                                         "(default: full text only)."),
             db: Optional[str] = DbOption, fmt: str = FormatOption) -> None:
    """The dated sequence of what was reported: each document at its publication date, and the dated
    reporting sentences inside articles on the day they name, each with its evidence."""
    from tabayyun.connect.timeline import select_timeline

    _check_format(fmt)
    if sum(x is not None for x in (story_id, topic_id, entity, claim)) != 1:
        raise typer.BadParameter("give exactly one of --story, --topic, --entity or --claim")
    events = _story_query(db, f"topic {topic_id}" if topic_id is not None else f"story {story_id}",
                          lambda storage: select_timeline(storage, story=story_id, entity=entity, claim=claim,
                                                          embeddings=embeddings, topic=topic_id))
    if fmt == "json":
        sys.stdout.write(json.dumps({"timeline": [e.to_dict() for e in events]}, ensure_ascii=False, indent=2) + "\n")
        return
    out.print(_text(f"{len(events)} events", style="bold"))
    for event in events:
        line = _text(f"{event.date or '----------'}  {event.kind:<9}  ")
        line.append(_safe(f"{(event.outlet or '-')[:24]:<24}"), style="cyan")
        if event.stance:
            line.append(_safe(f"  [{event.stance}]"))
        line.append(_safe(f"  {event.gist or '-'}"))
        out.print(line, soft_wrap=True)
        found = event.evidence
        where = f"paragraph {found['paragraph']} [{found['start']}:{found['end']}] " if found["paragraph"] is not None else ""
        out.print(_text(f"      {event.doc_id[:12]}  {where}«{found['text']}» {found['resolved']}", style="dim"),
                  soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command()(stories)
    app.command()(story)
    app.command()(topics)
    app.command()(timeline)
