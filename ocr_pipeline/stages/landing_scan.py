"""Finding new or changed PDFs in the landing store, with a cursor that misses nothing.

S3 lists keys in lexicographic order, not by time, so each scan *pass* walks the whole prefix,
a bounded number of keys per tick, resuming after the last key next tick. An object is a
candidate when its LastModified is at or after the watermark; ``seen`` remembers which
candidates (by ETag) were already requested, so equal timestamps are neither missed nor
re-triggered. When a pass ends, the watermark moves to the pass's start time minus a clock-skew
margin: anything written during the pass is looked at again next pass, and ``seen`` keeps only
objects at or after the new watermark, so the cursor stays small however large the bucket.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ocr_pipeline.stages.raw_catalog_pdfs import is_catalog_pdf
from ocr_pipeline.storage.objects import ObjectInfo, ObjectStore


@dataclass
class ScanCursor:
    watermark: str | None = None
    pass_started: str | None = None
    after: str | None = None
    seen: dict[str, list[str]] = field(default_factory=dict)
    """key -> [etag, last_modified] for candidates already requested."""

    def to_json(self) -> str:
        return json.dumps(self.__dict__, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> ScanCursor:
        return cls(**json.loads(text)) if text else cls()


@dataclass(frozen=True)
class ScanLimits:
    max_keys_per_tick: int = 10_000
    max_new_per_tick: int = 100
    clock_skew: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class ScanResult:
    new_objects: list[ObjectInfo]
    cursor: ScanCursor
    listed: int
    pass_complete: bool


def scan_landing(
    store: ObjectStore, cursor: ScanCursor, now: datetime, limits: ScanLimits = ScanLimits()
) -> ScanResult:
    """One bounded step of a scan pass; returns new objects and the cursor to store."""
    pass_started = datetime.fromisoformat(cursor.pass_started) if cursor.after and cursor.pass_started else now
    watermark = datetime.fromisoformat(cursor.watermark) if cursor.watermark else None
    next_watermark = pass_started - limits.clock_skew
    seen = dict(cursor.seen)
    new: list[ObjectInfo] = []
    listed = 0
    last_key = None
    complete = True
    for obj in store.list("", start_after=cursor.after):
        listed += 1
        last_key = obj.key
        if is_catalog_pdf(obj.key) and (watermark is None or obj.last_modified >= watermark):
            identity = obj.etag or obj.last_modified.isoformat()
            if seen.get(obj.key, [None])[0] != identity:
                new.append(obj)
                if obj.last_modified >= next_watermark:  # older ones are below the next pass's watermark
                    seen[obj.key] = [identity, obj.last_modified.isoformat()]
        if len(new) >= limits.max_new_per_tick or listed >= limits.max_keys_per_tick:
            complete = False
            break
    if complete:
        seen = {k: v for k, v in seen.items() if datetime.fromisoformat(v[1]) >= next_watermark}
        cursor = ScanCursor(watermark=next_watermark.isoformat(), pass_started=None, after=None, seen=seen)
    else:
        cursor = ScanCursor(
            watermark=cursor.watermark, pass_started=pass_started.isoformat(), after=last_key, seen=seen
        )
    return ScanResult(new, cursor, listed, complete)
