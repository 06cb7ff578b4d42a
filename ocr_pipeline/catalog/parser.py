"""Course entries from pages of lines in reading order: pure functions, no I/O.

1. Running headers, footers and page numbers are dropped.
2. Lines that begin with a course code are entry-start candidates; prose references
   (``MATH 120 or permission``) and wrapped prerequisite lists are rejected, and the catalog's
   dominant start style (bold code, code on its own line, run-in ``CODE. Title.``) is learnt
   from the document so that odd candidates need stronger evidence.
3. Each entry's lines are split into title, credits, labelled fields and description, using
   bold runs from the text layer where there are any.
4. Each entry gets a confidence from its evidence and the reasons when it falls short.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from ocr_pipeline.catalog.codes import CodeMatch, CodeMatcher
from ocr_pipeline.catalog.credits import Credits, find_credits, trailing_number
from ocr_pipeline.catalog.profile import CatalogProfile
from ocr_pipeline.models import CourseEntry, Line, PageResult

EDGE_ZONE = 0.08
PAGE_NUMBER = re.compile(r"^(?:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$", re.I)
MINOR_WORDS = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to", "with", "&", "-", "–", "vs.", "via"}
CONTINUATION_START = re.compile(r"^(?:and|or|nor|with|,|;|\)|\]|/|are|is|must|may|concurrent|or\b)", re.I)
FIELD_LINE = re.compile(r"^(?P<label>[A-Z][A-Za-z()/' -]{1,28}?)\s*:\s*(?P<value>.*)$")
TERMINAL = (".", "!", "?", ")")


@dataclass(frozen=True)
class _Item:
    """A line with the page it is on."""

    page: int
    line: Line


@dataclass(frozen=True)
class _Start:
    index: int
    code: CodeMatch
    style: tuple[bool, bool, bool]
    score: float


def clean_text(text: str) -> str:
    """Ligatures expanded (NFKC) and whitespace normalised."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def join_lines(parts: Sequence[str]) -> str:
    """Join wrapped lines, undoing end-of-line hyphenation (``physio-`` + ``logy``)."""
    out = ""
    for part in (clean_text(p) for p in parts):
        if not part:
            continue
        if out.endswith("-") and len(out) > 1 and out[-2].isalpha() and part[:1].islower():
            out = out[:-1] + part
        else:
            out = f"{out} {part}" if out else part
    return out


def _edge_text(line: Line, height: float) -> bool:
    return line.box[1] < EDGE_ZONE * height or line.box[3] > (1 - EDGE_ZONE) * height


def _edge_signature(text: str) -> str:
    return re.sub(r"\d+", "#", clean_text(text).lower())


def body_lines(pages: Sequence[PageResult]) -> list[_Item]:
    """All pages' lines in reading order, without running headers, footers and page numbers."""
    recurring: Counter[str] = Counter()
    for page in pages:
        signatures = {_edge_signature(l.text) for l in page.text.lines if _edge_text(l, page.ref.height)}
        recurring.update(signatures)
    threshold = max(2, 0.5 * len(pages))
    items = []
    for page in pages:
        for line in page.text.lines:
            text = clean_text(line.text)
            if not text:
                continue
            if _edge_text(line, page.ref.height) and (
                PAGE_NUMBER.match(text) or recurring[_edge_signature(text)] >= threshold
            ):
                continue
            items.append(_Item(page.ref.page, line))
    return items


def _rest_after(text: str, end: int) -> str:
    return text[end:].lstrip(" .:-–—|\t")


def _title_case_prefix(words: Sequence[str]) -> int:
    """How many leading words form a Title Case run (a title run into its description)."""
    count = 0
    for word in words:
        bare = word.strip("()[],:;")
        if bare and (bare[0].isupper() or bare[0].isdigit() or bare.lower() in MINOR_WORDS or bare in {"&"}):
            count += 1
        else:
            break
    if 0 < count < len(words) and words[count][:1].islower() and count > 1:
        count -= 1  # the last capitalised word starts the description's first sentence
    while count and words[count - 1].lower() in MINOR_WORDS:
        count -= 1
    return count


def _looks_like_title(text: str) -> bool:
    words = text.split()
    return bool(words) and words[0][:1].isupper() and _title_case_prefix(words) >= min(2, len(words))


def _candidate(items: Sequence[_Item], index: int, matcher: CodeMatcher, sizes: float) -> _Start | None:
    line = items[index].line
    text = clean_text(line.text)
    code = matcher.at_start(text)
    if code is None:
        return None
    rest = _rest_after(text, code.end)
    previous = clean_text(items[index - 1].line.text) if index else ""
    if rest[:1].islower() or CONTINUATION_START.match(rest) or rest[:1] in ",;)":
        return None
    if previous.endswith((":", ",", " and", " or", "&", "(")) or re.search(r"\b(?:prerequisites?|see|and|or|with)$", previous, re.I):
        return None
    bold = line.bold_chars is not None and line.bold_chars >= len(code.code)
    alone = rest == "" and not text.rstrip().endswith(".")
    run_in = text[code.end : code.end + 2].startswith(".") and _looks_like_title(rest)
    score = 0.0
    if bold:
        score += 2
    if alone and index + 1 < len(items):
        following = clean_text(items[index + 1].line.text)
        if following[:1].isupper() and not matcher.at_start(following):
            score += 2
    if run_in:
        score += 2
    if find_credits(rest) or trailing_number(rest):
        score += 1
    if rest and _looks_like_title(rest):
        score += 1
    if line.size and line.size > 1.15 * sizes:
        score += 1
    if score < 1:
        return None
    return _Start(index, code, (bold, alone, run_in), score)


def find_starts(items: Sequence[_Item], matcher: CodeMatcher) -> list[_Start]:
    """Entry starts, keeping candidates that fit the catalog's dominant start style."""
    sizes = [item.line.size for item in items if item.line.size]
    typical = median(sizes) if sizes else 0.0
    candidates = [c for i in range(len(items)) if (c := _candidate(items, i, matcher, typical))]
    if not candidates:
        return []
    dominant, _ = Counter(c.style for c in candidates if c.score >= 2).most_common(1)[0] if any(c.score >= 2 for c in candidates) else (None, 0)
    return [c for c in candidates if c.style == dominant or c.score >= 3 or (dominant is None and c.score >= 1)]


@dataclass
class _Fields:
    title: str | None = None
    credits: Credits | None = None
    description: list[str] | None = None
    prerequisites: list[str] | None = None


def _split_header(text: str, code: CodeMatch, line: Line) -> tuple[str | None, Credits | None, str]:
    """Title, credits and leftover (description start) from the entry's first line."""
    rest_start = len(text) - len(_rest_after(text, code.end))
    rest = text[rest_start:]
    if line.bold_chars is not None and code.end < line.bold_chars < len(text.rstrip()):
        title = text[rest_start : line.bold_chars].strip(" .:-–|\t")
        leftover = text[line.bold_chars :].strip(" .|\t")
        credits = find_credits(leftover)
        if credits and credits.start == 0:
            leftover = leftover[credits.end :].strip(" .|\t")
        return title or None, credits, leftover
    cells = [c.strip() for c in rest.split("\t") if c.strip()]
    if len(cells) > 1:
        credits = next((cr for c in cells[1:] if (cr := find_credits(c) or trailing_number(c))), None)
        return cells[0].strip(" .-–|"), credits, ""
    credits = find_credits(rest)
    if credits is not None:
        before, after = rest[: credits.start], rest[credits.end :]
        if before.rstrip().endswith("("):
            before, after = before.rstrip()[:-1], after.lstrip().removeprefix(")")
        title = before.strip(" .-–|(")
        return (title or None), credits, after.strip(" .|")
    number = trailing_number(rest)
    if number is not None and _title_case_prefix(rest[: number.start].split()) >= 1:
        return rest[: number.start].strip(" .-–|"), number, ""
    if ". " in rest:
        title, leftover = rest.split(". ", 1)
        return title.strip(), None, leftover.strip()
    words = rest.split()
    keep = _title_case_prefix(words)
    if keep == len(words) or keep == 0:
        return (rest.strip(" .") or None), None, ""
    return " ".join(words[:keep]), None, " ".join(words[keep:])


def _label_of(text: str, labels: Sequence[str]) -> str | None:
    lowered = text.casefold()
    return next((label for label in labels if lowered == label.casefold()), None)


def _entry_fields(items: Sequence[_Item], start: _Start, end: int, profile: CatalogProfile) -> _Fields:
    first = items[start.index].line
    text = clean_text(first.text)
    fields = _Fields()
    body = [clean_text(items[i].line.text) for i in range(start.index + 1, end)]
    body_lines_ = [items[i].line for i in range(start.index + 1, end)]
    description: list[str] = []
    prerequisites: list[str] = []
    if _rest_after(text, start.code.end) == "" and body:
        nxt = body_lines_[0]
        ntext = body.pop(0)
        body_lines_.pop(0)
        if nxt.bold_chars and nxt.bold_chars < len(ntext):
            fields.title = ntext[: nxt.bold_chars].strip(" .:")
            description.append(ntext[nxt.bold_chars :].strip())
        else:
            title, credits, leftover = _split_header(ntext, CodeMatch("", "", "", 0), nxt)
            fields.title, fields.credits = title, credits
            if leftover:
                description.append(leftover)
    else:
        fields.title, fields.credits, leftover = _split_header(text, start.code, first)
        if leftover:
            description.append(leftover)
    section: str = "description"
    current: list[str] | None = description
    for line, ltext in zip(body_lines_, body):
        heading = ltext.rstrip(":")
        if _label_of(heading, profile.description_labels):
            section, current = "description", description
            continue
        if _label_of(heading, profile.prerequisite_labels):
            section, current = "prerequisites", prerequisites
            continue
        if len(heading.split()) <= 2 and heading[:1].isupper() and not heading.endswith(".") and (line.bold or not description):
            if not find_credits(ltext):
                section, current = "other", None
                continue
        field = FIELD_LINE.match(ltext)
        label_credits = find_credits(ltext)
        if label_credits is not None and label_credits.start == 0 and fields.credits is None and not description:
            fields.credits = label_credits
            section, current = "other", None
            continue
        if field:
            label = field.group("label").strip()
            if _label_of(label, profile.prerequisite_labels):
                section, current = "prerequisites", prerequisites
                current.append(field.group("value"))
            elif _label_of(label, profile.credit_labels):
                fields.credits = fields.credits or find_credits(ltext) or trailing_number(field.group("value"))
                section, current = "other", None
            elif _label_of(label, profile.description_labels):
                section, current = "description", description
                current.append(field.group("value"))
            else:
                section, current = "other", None
            continue
        if fields.credits is None and (cells := ltext.split("\t")) and len(cells) > 1:
            credit_cells = [find_credits(c) for c in cells]
            if credit_cells[0] is not None and _label_of(cells[0].strip(), profile.credit_labels + ("ECTS credits",)):
                fields.credits = trailing_number(cells[-1]) or credit_cells[0]
                continue
        if current is None:
            if section == "other" and description == [] and not FIELD_LINE.match(ltext) and (ltext[:1].isupper()) and prerequisites and ltext.endswith((".",)):
                current = description
            elif section == "other" and ltext[:1].isupper() and not ltext.rstrip().endswith(":") and _ends_field(body_lines_, line):
                section, current = "description", description
            else:
                continue
        current.append(ltext)
    joined = join_lines(description)
    inline = profile.prerequisite_pattern.search(joined)
    if inline and not prerequisites:
        prerequisites = [joined[inline.end() :]]
        joined = joined[: inline.start()]
    fields.description = [joined] if joined.strip(" .") else None
    fields.prerequisites = prerequisites or None
    return fields


def _ends_field(lines: Sequence[Line], line: Line) -> bool:
    """A capitalised line after field lines starts a new paragraph (the description)."""
    return True


def parse_pages(pages: Sequence[PageResult], profile: CatalogProfile | None = None) -> list[CourseEntry]:
    """Course entries found in ``pages`` (a whole document, pages in order)."""
    profile = profile or CatalogProfile()
    matcher = CodeMatcher(profile.code_pattern)
    items = body_lines(pages)
    starts = find_starts(items, matcher)
    methods = {page.ref.page: page.method for page in pages}
    drafts = []
    for position, start in enumerate(starts):
        end = starts[position + 1].index if position + 1 < len(starts) else len(items)
        end = _cut_at_heading(items, start.index + 1, end)
        fields = _entry_fields(items, start, end, profile)
        lines = [items[i].line for i in range(start.index, end) if items[i].page == items[start.index].page]
        drafts.append((start, fields, lines, [items[i].line.confidence for i in range(start.index, end)]))
    with_credits = sum(1 for _, f, _, _ in drafts if f.credits) / len(drafts) if drafts else 0
    with_description = sum(1 for _, f, _, _ in drafts if f.description) / len(drafts) if drafts else 0
    dominant = Counter(s.style for s, _, _, _ in drafts).most_common(1)[0][0] if drafts else None
    entries = []
    for start, fields, lines, confidences in drafts:
        item = items[start.index]
        score, reasons = _score(start, fields, confidences, with_credits, with_description, dominant)
        credits = fields.credits
        prereq = join_lines(fields.prerequisites).strip() if fields.prerequisites else None
        entries.append(
            CourseEntry(
                course_code=start.code.code,
                subject=start.code.subject,
                number=start.code.number,
                title=fields.title or None,
                credits_min=credits.low if credits else None,
                credits_max=credits.high if credits else None,
                description=fields.description[0] if fields.description else None,
                prerequisites=prereq or None,
                page=item.page,
                box=(min(l.box[0] for l in lines), min(l.box[1] for l in lines), max(l.box[2] for l in lines), max(l.box[3] for l in lines)),
                confidence=score,
                reasons=tuple(reasons),
                extraction_method=methods.get(item.page, "text-layer"),
            )
        )
    return entries


def _cut_at_heading(items: Sequence[_Item], begin: int, end: int) -> int:
    """An entry ends early at a heading (a bold or larger line that is not part of it)."""
    for index in range(begin + 1, end):
        line = items[index].line
        text = clean_text(line.text)
        if line.bold and line.bold_chars is not None and not text.endswith(".") and re.search(r"\b(?:requirements?|electives?|courses|program|major|minor)\b", text, re.I):
            return index
    return end


def _score(start: _Start, fields: _Fields, confidences: Sequence[float], with_credits: float,
           with_description: float, dominant: tuple[bool, bool, bool] | None) -> tuple[float, list[str]]:
    score = 0.55 + min(start.score, 4) * 0.05
    reasons = []
    if fields.title and 2 <= len(fields.title) <= 150:
        score += 0.15
    else:
        reasons.append("no title found")
    if fields.credits is not None:
        score += 0.1
    elif with_credits >= 0.5:
        reasons.append("no credits found (most entries in this catalog have them)")
    else:
        score += 0.05
    if fields.description or with_description < 0.5:
        score += 0.05
    else:
        reasons.append("no description found (most entries in this catalog have one)")
    if dominant is not None and start.style != dominant:
        score -= 0.1
        reasons.append("entry start differs from this catalog's usual style")
    ocr = min(confidences) if confidences else 1.0
    mean = sum(confidences) / len(confidences) if confidences else 1.0
    if mean < 0.9:
        reasons.append(f"low OCR confidence ({mean:.2f})")
    score = max(0.0, min(1.0, score)) * (0.5 + 0.5 * mean) if mean < 1 else max(0.0, min(1.0, score))
    if ocr < 0.6:
        reasons.append(f"a line was read with confidence {ocr:.2f}")
    return round(score, 4), reasons
