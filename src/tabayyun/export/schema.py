"""The Parquet schema of an export: every nested field typed, so readers need not guess."""

from __future__ import annotations

import pyarrow as pa

_INT = pa.int32()
_STR = pa.string()


def _struct(**fields: pa.DataType) -> pa.DataType:
    return pa.struct([pa.field(name, type_) for name, type_ in fields.items()])


EVIDENCE = _struct(source=_STR, text=_STR, line=_INT, confidence=pa.float64(), note=_STR)
REMOVED = _struct(text=_STR, kind=_STR, rule=_STR, lines=pa.list_(_INT))
ENTITY = _struct(text=_STR, type=_STR, canonical=_STR, paragraph=_INT, start=_INT, end=_INT, role=_STR,
                 source=_STR)
TIME = _struct(text=_STR, value=_STR, granularity=_STR, anchor=_STR, paragraph=_INT, start=_INT, end=_INT)
QUOTE = _struct(speaker=_STR, speaker_canonical=_STR, speaker_kind=_STR, cue=_STR, cue_class=_STR, content=_STR,
                direct=pa.bool_(), paragraph=_INT, start=_INT, end=_INT, via=pa.list_(_STR), cue_start=_INT,
                speaker_start=_INT, speaker_end=_INT, evidence=_STR)
CITATION = _struct(source=_STR, source_id=_STR, kind=_STR, paragraph=_INT, start=_INT, end=_INT)
RATIONALE = _struct(paragraph=_INT, start=_INT, end=_INT, text=_STR, score=pa.float64(), speaker=_STR,
                    cue_class=_STR)
STANCE = _struct(claim=_STR, stance=_STR, scores=pa.map_(_STR, pa.float64()), rationale=pa.list_(RATIONALE))


def parquet_schema() -> pa.Schema:
    return pa.schema([
        pa.field("id", _STR, nullable=False),
        *(pa.field(name, _STR) for name in ("path", "url", "format", "encoding")),
        pa.field("title", _STR), pa.field("title_evidence", EVIDENCE),
        pa.field("outlet", _STR), pa.field("outlet_evidence", EVIDENCE),
        pa.field("published", _STR), pa.field("published_evidence", EVIDENCE),
        pa.field("language", _STR), pa.field("language_evidence", EVIDENCE),
        pa.field("paragraphs", pa.list_(_STR)),
        pa.field("removed", pa.list_(REMOVED)),
        pa.field("entities", pa.list_(ENTITY)),
        pa.field("times", pa.list_(TIME)),
        pa.field("quotes", pa.list_(QUOTE)),
        pa.field("citations", pa.list_(CITATION)),
        pa.field("story", pa.int64()),
        pa.field("duplicates", pa.list_(_STR)),
        pa.field("stances", pa.list_(STANCE)),
    ])
