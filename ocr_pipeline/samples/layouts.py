"""The catalog layouts. Each renders seeded course content and returns the PDF with its truth."""

from __future__ import annotations

import random
from collections.abc import Callable
from itertools import groupby

from reportlab.lib.pagesizes import A4, LETTER

from .content import (
    GENERAL_STUDIES,
    SUBJECTS,
    CourseContent,
    Subject,
    intro_text,
    make_courses,
    person_name,
    pick_subjects,
)
from .render import Catalog, Flow, Word, dejavu, table, words
from .truth import TruthCourse

Layout = Callable[[random.Random, int, str], tuple[bytes, list[TruthCourse]]]
Credits = tuple[float | None, float | None]

_TERMS = ("Fall", "Spring", "Fall, Spring", "Summer", "Fall, Spring, Summer")


def _num(value: float) -> str:
    """Print a credit value the way catalogs do: "3", "1.5"."""
    return f"{value:g}"


def _truth(course: CourseContent, credits: Credits, page: int, *, described: bool = True) -> TruthCourse:
    return TruthCourse(
        course_code=course.code,
        title=course.title,
        credits_min=credits[0],
        credits_max=credits[1],
        description=course.description if described else None,
        prerequisites=course.prerequisites if described else None,
        page=page,
    )


def _label(label: str, text: str, label_font: str, font: str) -> list[Word]:
    return [Word(label, label_font), *words(text, font)]


def header_fields(rng: random.Random, n: int, institution: str) -> tuple[bytes, list[TruthCourse]]:
    """`ACCT-212 Managerial Accounting 400(4)` headers with labelled field lines, one column."""
    doc = Catalog(institution, LETTER, footer="{n}")
    flow = Flow(doc)
    subjects = pick_subjects(rng, 4)
    courses, book = make_courses(rng, n, lambda r, s: f"{s.abbrev}-{r.randint(100, 499)}", subjects)
    flow.paragraph(words("Course Descriptions", "Times-Bold"), 16)
    flow.space(4)
    flow.paragraph(words(intro_text(rng, institution, [book.new(s) for s in subjects[:2]]), "Times-Roman"), 10.5)
    flow.space(4)
    note = (
        "Notation: course numbers are followed by three digits giving weekly lecture hours, laboratory "
        "hours and clinical hours, and by the number of credits in parentheses; for example, 302(4) "
        "means three lecture hours, no laboratory hours, two clinical hours and four credits."
    )
    flow.paragraph(words(note, "Times-Italic"), 9.5)
    truth = []
    for course in courses:
        flow.space(9)
        if rng.random() < 0.1:
            hours, credits, printed = "000", (1.0, 3.0), "1-3"
        else:
            cr = rng.randint(1, 5)
            lecture = rng.randint(1, cr)
            hours = f"{lecture}{rng.choice((0, 0, 2, 3))}{rng.choice((0, 0, 0, 2))}"
            credits, printed = (float(cr), float(cr)), str(cr)
        page = flow.paragraph(words(f"{course.code} {course.title} {hours}({printed})", "Times-Bold"), 11)
        if course.prerequisites:
            flow.paragraph(_label("Prerequisites:", course.prerequisites, "Times-Bold", "Times-Roman"), 10)
        if rng.random() < 0.3:
            coreq = f"{book.new(course.subject)}."
            flow.paragraph(_label("Corequisites:", coreq, "Times-Bold", "Times-Roman"), 10)
        flow.paragraph(_label("Terms Offered:", rng.choice(_TERMS), "Times-Bold", "Times-Roman"), 10)
        flow.paragraph(words(course.description, "Times-Roman"), 10)
        truth.append(_truth(course, credits, page))
    return doc.finish(), truth


def bold_runin_3col(rng: random.Random, n: int, institution: str) -> tuple[bytes, list[TruthCourse]]:
    """Three columns; code line, bold run-in title plus description, then Credits/Term/Director lines."""
    doc = Catalog(institution, LETTER, margin=40)
    flow = Flow(doc, columns=3, gutter=14)
    subjects = [*pick_subjects(rng, 3), GENERAL_STUDIES]
    courses, book = make_courses(rng, n, lambda r, s: f"GS-{s.abbrev3}-{r.randint(5000, 7999)}", subjects)
    size = 9.5
    flow.paragraph(words("Graduate School Course Offerings", "Helvetica-Bold"), 13)
    flow.space(4)
    flow.paragraph(words(intro_text(rng, institution, [book.new(s) for s in subjects[:2]]), "Helvetica"), size)
    truth = []
    for course in courses:
        flow.space(8)
        page = flow.paragraph(words(course.code, "Helvetica"), size)
        flow.paragraph([*words(course.title, "Helvetica-Bold"), *words(course.description, "Helvetica")], size)
        if course.prerequisites:
            flow.paragraph(words(f"Prerequisites: {course.prerequisites}", "Helvetica"), size)
        if rng.random() < 0.1:
            credits, printed = (1.0, 3.0), "1-3"
        else:
            value = rng.choice((0.5, 1.0, 1.5, 2.0, 3.0, 4.5))
            credits, printed = (value, value), _num(value)
        flow.paragraph(words(f"Credits: {printed}", "Helvetica"), size)
        flow.paragraph(words(f"Term: {rng.choice(_TERMS)}", "Helvetica"), size)
        flow.paragraph(words(f"Director: Dr. {person_name(rng)}", "Helvetica"), size)
        truth.append(_truth(course, credits, page))
    return doc.finish(), truth


def one_per_page(rng: random.Random, n: int, institution: str) -> tuple[bytes, list[TruthCourse]]:
    """One course per page: big heading, a small ruled fact table, then headed sections."""
    doc = Catalog(institution, A4, footer="Page {n}")
    flow = Flow(doc)
    subjects = pick_subjects(rng, 3)
    courses, book = make_courses(rng, min(n, 8), lambda r, s: f"{s.abbrev3}{r.randint(1000, 3999)}", subjects)
    intro = intro_text(rng, institution, [book.new(s) for s in subjects[:2]])
    flow.paragraph(words(intro, "Helvetica-Oblique"), 9)
    truth = []
    for i, course in enumerate(courses):
        if i:
            flow.new_page()
        else:
            flow.space(16)
        page = flow.paragraph(words(f"{course.code} {course.title}", "Helvetica-Bold"), 20)
        flow.space(10)
        ects = rng.choice((2.5, 5.0, 7.5, 10.0, 15.0))
        rows = [
            ["Semester", rng.choice(("Autumn 2026", "Spring 2027"))],
            ["Period", rng.choice(("1", "2", "1-2", "3", "3-4"))],
            ["ECTS credits", _num(ects)],
        ]
        table(flow, rows, (130, 190), 10, bold_first_column=True)
        sections = [("Description", course.description)]
        if course.prerequisites:
            sections.insert(0, ("Prerequisite", course.prerequisites))
        author = person_name(rng).split()
        reference = f"{author[1]}, {author[0][0]}. ({rng.randint(2005, 2024)}). {course.title}. Academic Press."
        sections.append(("Literature", reference))
        for heading, text in sections:
            flow.space(12)
            flow.paragraph(words(heading, "Helvetica-Bold"), 12)
            flow.space(2)
            flow.paragraph(words(text, "Helvetica"), 10.5)
        truth.append(_truth(course, (ects, ects), page))
    return doc.finish(), truth


def requirement_list(rng: random.Random, n: int, institution: str) -> tuple[bytes, list[TruthCourse]]:
    """Degree requirement pages: program prose, group headings, `CSCI 217 Title 3.0` lines."""
    doc = Catalog(institution, LETTER, footer="Page {n}")
    flow = Flow(doc)
    courses, book = make_courses(rng, n, lambda r, s: f"{s.abbrev4} {r.randint(100, 499)}", pick_subjects(rng, 3))
    canvas = doc.canvas
    right = doc.pagesize[0] - doc.margin
    truth = []
    for number, (subject, grouped) in enumerate(groupby(courses, key=lambda c: c.subject)):
        group = list(grouped)
        if number:
            flow.new_page()
        flow.paragraph(words(f"Bachelor of Science in {subject.name}", "Helvetica-Bold"), 16)
        flow.space(6)
        flow.paragraph(words(intro_text(rng, institution, [book.new(subject), book.new(subject)]), "Helvetica"), 10)
        flow.space(4)
        flow.paragraph(
            words(
                f"The program in {subject.name} prepares graduates for employment and graduate study. "
                f"A minimum grade of C is required in every course listed below.",
                "Helvetica",
            ),
            10,
        )
        credits: list[tuple[float, float]] = []
        for _ in group:
            value = float(rng.choice((3, 3, 4, 1)))
            credits.append((1.0, 3.0) if rng.random() < 0.1 else (value, value))
        split = max(1, (len(group) * 3) // 5)
        for heading, members in (("Core Requirements", range(split)), ("Electives", range(split, len(group)))):
            if not members:
                continue
            low = sum(credits[i][0] for i in members)
            high = sum(credits[i][1] for i in members)
            total = _num(low) if low == high else f"{_num(low)}-{_num(high)}"
            flow.space(10)
            flow.paragraph(words(f"{heading} ({total} credits)", "Helvetica-Bold"), 11.5)
            flow.space(2)
            for i in members:
                course, (lo, hi) = group[i], credits[i]
                page = flow.advance(14)
                canvas.setFont("Helvetica", 10)
                canvas.drawString(flow.x, flow.y, course.code)
                canvas.drawString(flow.x + 72, flow.y, course.title)
                canvas.drawRightString(right, flow.y, f"{lo:.1f}" if lo == hi else f"{lo:.1f}-{hi:.1f}")
                truth.append(_truth(course, (lo, hi), page, described=False))
    return doc.finish(), truth


def _classic_credits(rng: random.Random) -> tuple[Credits, str]:
    value = rng.randint(1, 5)
    options: list[tuple[Credits, str]] = [
        ((value, value), f"{value} Credit{'s' if value > 1 else ''}."),
        ((1.0, 3.0), "1-3 Credits."),
        ((1.0, 4.0), "1 to 4 credits."),
        ((None, None), "Variable credit."),
        ((value, value), f"{value} cr."),
        ((value, value), f"{value} hrs."),
    ]
    (low, high), text = rng.choices(options, weights=(6, 1, 1, 1, 1, 1))[0]
    return (None if low is None else float(low), None if high is None else float(high)), text


def classic_runin(rng: random.Random, n: int, institution: str) -> tuple[bytes, list[TruthCourse]]:
    """`CS 101. Title. 3 Credits. Description. Prerequisite: ...` paragraphs in two columns."""
    doc = Catalog(institution, LETTER, font="Times-Roman", margin=72)
    flow = Flow(doc, columns=2, gutter=24)
    subjects = pick_subjects(rng, 4)
    courses, book = make_courses(rng, n, lambda r, s: f"{s.abbrev} {r.randint(100, 499)}", subjects)
    flow.paragraph(words("Courses of Instruction", "Times-Bold"), 15)
    flow.space(4)
    flow.paragraph(words(intro_text(rng, institution, [book.new(s) for s in subjects[:2]]), "Times-Roman"), 9.5)
    truth = []
    for subject, group in groupby(courses, key=lambda c: c.subject):
        flow.space(10)
        flow.paragraph(words(f"{subject.name} ({subject.abbrev})", "Times-Bold"), 11.5)
        for course in group:
            flow.space(5)
            credits, credit_text = _classic_credits(rng)
            runs = [
                *words(f"{course.code}. {course.title}. {credit_text}", "Times-Bold"),
                *words(course.description, "Times-Roman"),
            ]
            if course.prerequisites:
                label = rng.choice(("Prerequisite:", "Prerequisites:"))
                runs += _label(label, course.prerequisites, "Times-Italic", "Times-Roman")
            truth.append(_truth(course, credits, flow.paragraph(runs, 10.5)))
    return doc.finish(), truth


def _units_code(rng: random.Random, subject: Subject) -> str:
    number = f"{rng.randint(1, 199)}{rng.choice(('', '', 'A', 'B', 'C'))}"
    if rng.random() < 0.15:
        partner = rng.choice([s for s in SUBJECTS if s is not subject and s is not GENERAL_STUDIES])
        return f"{subject.abbrev}/{partner.abbrev} {number}"
    return f"{subject.abbrev} {number}"


def units_parenthetical(rng: random.Random, n: int, institution: str) -> tuple[bytes, list[TruthCourse]]:
    """Bold `MATH 1A Calculus (4 units)` headers, description paragraph, italic prerequisite line."""
    doc = Catalog(institution, LETTER, footer="Page {n}")
    flow = Flow(doc)
    subjects = pick_subjects(rng, 4)
    courses, book = make_courses(rng, n, _units_code, subjects)
    flow.paragraph(words("Lower and Upper Division Courses", "Helvetica-Bold"), 15)
    flow.space(4)
    flow.paragraph(words(intro_text(rng, institution, [book.new(s) for s in subjects[:2]]), "Helvetica"), 10)
    truth = []
    for course in courses:
        flow.space(10)
        if rng.random() < 0.12:
            credits, units = (1.0, 3.0), "1-3 units"
        else:
            value = rng.choice((1, 2, 3, 4, 4, 5))
            credits, units = (float(value), float(value)), f"{value} unit{'s' if value > 1 else ''}"
        page = flow.paragraph(words(f"{course.code} {course.title} ({units})", "Helvetica-Bold"), 10.5)
        flow.space(2)
        flow.paragraph(words(course.description, "Helvetica"), 10)
        if course.prerequisites:
            flow.paragraph(words(f"Prerequisite: {course.prerequisites}", "Helvetica-Oblique"), 9.5)
        truth.append(_truth(course, credits, page))
    return doc.finish(), truth


def _ligatures(text: str) -> str:
    """Typeset "fi"/"fl" as the U+FB01/U+FB02 ligature code points."""
    return text.replace("fi", "\ufb01").replace("fl", "\ufb02")


def two_column_hyphenated(rng: random.Random, n: int, institution: str) -> tuple[bytes, list[TruthCourse]]:
    """Two justified, hyphenated DejaVu columns with fi/fl ligatures and `BIOL 2410 - Title (4 credit hours)`."""
    serif, bold, italic = dejavu("DejaVuSerif"), dejavu("DejaVuSerif-Bold"), dejavu("DejaVuSerif-Italic")
    doc = Catalog(institution, LETTER, font=serif, footer="{n}")
    flow = Flow(doc, columns=2, gutter=20)
    subjects = pick_subjects(rng, 4)
    courses, book = make_courses(rng, n, lambda r, s: f"{s.abbrev4} {r.randint(1000, 4999)}", subjects)
    size = 10.0
    flow.paragraph(words("Course Descriptions", bold), 14)
    flow.space(4)
    intro = intro_text(rng, institution, [book.new(s) for s in subjects[:2]])
    flow.paragraph(words(intro, serif), size, justify=True)
    truth = []
    for course in courses:
        flow.space(8)
        if rng.random() < 0.12:
            credits, hours = (1.0, 3.0), "1-3 credit hours"
        else:
            value = rng.choice((1, 2, 3, 3, 4))
            credits, hours = (float(value), float(value)), f"{value} credit hour{'s' if value > 1 else ''}"
        page = flow.paragraph(words(f"{course.code} - {course.title} ({hours})", bold), 10.5)
        flow.paragraph(words(_ligatures(course.description), serif), size, justify=True, hyphenate=True)
        if course.prerequisites:
            flow.paragraph(_label("Prerequisite:", course.prerequisites, italic, serif), size)
        truth.append(_truth(course, credits, page))
    return doc.finish(), truth


def ects_table(rng: random.Random, n: int, institution: str) -> tuple[bytes, list[TruthCourse]]:
    """Ruled Code | Title | ECTS | Semester tables, one department per page."""
    doc = Catalog(institution, A4, footer="Page {n}")
    flow = Flow(doc)
    courses, book = make_courses(rng, n, lambda r, s: f"{s.abbrev3}-{r.randint(1000, 3999)}", pick_subjects(rng, 3))
    truth = []
    for number, (subject, grouped) in enumerate(groupby(courses, key=lambda c: c.subject)):
        group = list(grouped)
        if number:
            flow.new_page()
        flow.paragraph(words(f"Department of {subject.name}", "Helvetica-Bold"), 15)
        flow.space(4)
        flow.paragraph(words(intro_text(rng, institution, [book.new(subject), book.new(subject)]), "Helvetica"), 10)
        flow.space(10)
        ects = [rng.choice((2.5, 5.0, 7.5, 10.0, 10.0, 15.0)) for _ in group]
        semesters = [rng.choice(("Autumn", "Spring", "Autumn, Spring")) for _ in group]
        rows = [[c.code, c.title, _num(e), term] for c, e, term in zip(group, ects, semesters)]
        pages = table(flow, rows, (72, 250, 48, 100), 9.5, header=("Code", "Title", "ECTS", "Semester"))
        truth += [_truth(c, (e, e), p, described=False) for c, e, p in zip(group, ects, pages)]
    return doc.finish(), truth


LAYOUT_FUNCTIONS: dict[str, Layout] = {
    "header_fields": header_fields,
    "bold_runin_3col": bold_runin_3col,
    "one_per_page": one_per_page,
    "requirement_list": requirement_list,
    "classic_runin": classic_runin,
    "units_parenthetical": units_parenthetical,
    "two_column_hyphenated": two_column_hyphenated,
    "ects_table": ects_table,
}
