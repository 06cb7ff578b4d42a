"""The rules of ``catalog/prerequisites.py`` one at a time: code shapes, exclusions, follow-on numbers,
grouping, the distribution cap, the catalog's shape and the edge rows (pure, small hand-built inputs)."""

from __future__ import annotations

from typing import Any

import pytest

from ocr_pipeline.catalog.prerequisites import CatalogShape, parse_prerequisites, prerequisite_rows, required_codes


def course(code: str, separator: str = " ", **extra: Any) -> dict[str, Any]:
    """A course row as the parser writes it: ``course_code`` printed with ``separator``."""
    subject, number = code.split(" ")
    return {"course_code": f"{subject}{separator}{number}", "subject": subject, "number": number, **extra}


SHAPE = CatalogShape.from_rows([course("CHEM 101"), course("CHEM 102"), course("MATH 120"), course("BIOL 110")])
"""A catalog of four-letter subjects and three-digit numbers printed ``SUBJ 123``."""

WIDE = CatalogShape(subjects=frozenset({"CS", "ENGLISH"}), subject_lengths=(2, 7), digits=frozenset({3}))
"""A catalog whose own subjects run from two to seven letters, so any capitalised word could be a subject."""


# --- words that are never subjects --------------------------------------------------------------------

NOT_SUBJECT_WORDS = (
    "ACT AP IB SAT GPA GRE GMAT MCAT LSAT TOEFL IELTS PTE CLEP ALEKS GED HSC ECTS CR CH QH SCH HRS HOURS HOUR "
    "UNIT UNITS CREDIT CREDITS LEVEL GRADE YEAR YEARS TERM FALL SPRING SUMMER WINTER SEM PAGE PART SECTION "
    "CHAPTER VOL NO ROOM STEP PHASE FORM TABLE AM PM AD BC USD"
).split()


@pytest.mark.parametrize("word", NOT_SUBJECT_WORDS)
def test_tests_terms_and_units_are_not_subjects(word: str) -> None:
    """``SAT 500``, ``FALL 2024``, ``TABLE 101``: a capitalised test, term or unit name before a number is no course."""
    assert parse_prerequisites(f"{word} 101", WIDE) == []
    assert parse_prerequisites(f"{word} 101 or CS 101", WIDE) == [["CS 101"]]


def test_an_unknown_subject_in_the_catalogs_shape_is_a_code() -> None:
    """The control for the words above: an unlisted capitalised word of the right shape is read as a subject."""
    assert parse_prerequisites("ZOO 101", WIDE) == [["ZOO 101"]]
    assert parse_prerequisites("ZOOLOGY 101 and AB 102", WIDE) == [["ZOOLOGY 101"], ["AB 102"]]


# --- clauses that are not requirements ------------------------------------------------------------------


@pytest.mark.parametrize(
    "note",
    [
        "MATH 120 not required",
        "no credit for MATH 120",
        "MATH 120 recommended",
        "we recommend MATH 120",
        "MATH 120 suggested",
        "MATH 120 advised",
        "MATH 120 is advisable",
        "MATH 120 desirable",
        "MATH 120 preferred",
        "MATH 120 optional",
        "same as MATH 120",
        "cross-listed with MATH 120",
        "cross listed with MATH 120",
        "crosslisted with MATH 120",
        "formerly MATH 120",
        "previously numbered MATH 120",
        "previously listed as MATH 120",
        "MATH 120 RECOMMENDED",
        "Same As MATH 120",
    ],
)
def test_a_clause_that_is_not_a_requirement_is_dropped_whole(note: str) -> None:
    """Recommendations, exclusions and aliases name no required course; the other clauses still count."""
    assert parse_prerequisites(f"CHEM 101; {note}.", SHAPE) == [["CHEM 101"]]
    assert parse_prerequisites(f"CHEM 101 ({note}) and BIOL 110", SHAPE) == [["CHEM 101"], ["BIOL 110"]]


@pytest.mark.parametrize("text", ["CHEM 101 and MATH 120 in another notation", "CHEM 101 and MATH 120, previously"])
def test_excluding_words_match_whole_words_only(text: str) -> None:
    """``notation`` is not ``not`` and a lone ``previously`` is no alias: the clause stays a requirement."""
    assert parse_prerequisites(text, SHAPE) == [["CHEM 101"], ["MATH 120"]]


def test_an_excluding_bracket_does_not_drop_the_clause_around_it() -> None:
    """Only the level whose own words exclude is dropped: the bracket, not the codes outside it."""
    assert parse_prerequisites("CHEM 101 (or MATH 120 recommended) and BIOL 110", SHAPE) == [
        ["CHEM 101"],
        ["BIOL 110"],
    ]
    assert parse_prerequisites("(CHEM 101 or CHEM 102) recommended; BIOL 110", SHAPE) == [["BIOL 110"]]


# --- clauses ----------------------------------------------------------------------------------------


def test_clauses_split_at_semicolons_colons_and_sentence_ends_only_outside_brackets() -> None:
    """A break inside brackets does not end the clause; after a closed bracket the next break does."""
    assert parse_prerequisites("(CHEM 101 or CHEM 102); MATH 120 recommended.", SHAPE) == [["CHEM 101", "CHEM 102"]]
    assert parse_prerequisites("((CHEM 101) or CHEM 102): MATH 120 recommended", SHAPE) == [["CHEM 101", "CHEM 102"]]
    assert parse_prerequisites("(CHEM 101; MATH 120 recommended) or BIOL 110", SHAPE) == [["BIOL 110"]]
    assert parse_prerequisites("((CHEM 101) or CHEM 102; MATH 120 recommended)", SHAPE) == []
    assert parse_prerequisites("CHEM 101. MATH 120", SHAPE) == [["CHEM 101"], ["MATH 120"]]
    assert parse_prerequisites("CHEM 101.5 or MATH 120", SHAPE) == [["MATH 120"]]  # a decimal is no break, no code


def test_an_unmatched_closing_bracket_does_not_stop_the_reading() -> None:
    """A stray ``)`` ends a level early; what follows it is still read, and a stray ``)`` opens no clause."""
    assert parse_prerequisites("CHEM 101) and CHEM 102", SHAPE) == [["CHEM 101"], ["CHEM 102"]]
    assert parse_prerequisites("CHEM 101); MATH 120 recommended", SHAPE) == [["CHEM 101"]]


# --- codes --------------------------------------------------------------------------------------------


def test_the_default_shape_reads_spaced_three_and_four_digit_codes() -> None:
    """Without a catalog shape: two to five capital letters, a space, three or four digits."""
    default = CatalogShape()
    assert (default.subjects, default.separator, default.digits, default.subject_lengths, default.codes) == (
        frozenset(),
        " ",
        frozenset({3, 4}),
        (2, 5),
        frozenset(),
    )
    assert parse_prerequisites("CHEM 101 or CS 1010 and ABCDE 300") == [["CHEM 101", "CS 1010"], ["ABCDE 300"]]
    assert parse_prerequisites("ABCDEF 101") == []  # six letters
    assert parse_prerequisites("CHEM 10") == []  # two digits
    assert parse_prerequisites("CHEM-101 or CHEM101") == []  # not the default separator


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("AB-CDE 101", ["AB-CDE 101"]),  # five letters: hyphens do not count
        ("TA&M 101", ["TA&M 101"]),  # three letters: ampersands do not count
        ("AB 101", []),  # two letters: below the catalog's shortest subject
        ("ABCDEF 101", []),  # six letters: above its longest
        ("ABC 101", ["ABC 101"]),
    ],
)
def test_unknown_subjects_must_have_the_catalogs_subject_length(text: str, codes: list[str]) -> None:
    """The bounds are inclusive and count letters only."""
    shape = CatalogShape(subject_lengths=(3, 5))
    assert [code for group in parse_prerequisites(text, shape) for code in group] == codes


def test_ampersand_subject_length_bound() -> None:
    """``TA&M`` is three letters long, so it fits a catalog of two- and three-letter subjects."""
    assert parse_prerequisites("TA&M 101", CatalogShape(subject_lengths=(2, 3))) == [["TA&M 101"]]
    assert parse_prerequisites("AB-CD 101", CatalogShape(subject_lengths=(2, 4))) == [["AB-CD 101"]]


@pytest.mark.parametrize(
    ("subject", "number", "sep", "accepted"),
    [
        ("CHEM", "101", " ", True),
        ("Chem", "101", " ", True),  # a known subject in title case
        ("CHEM", "101", "-", True),  # a known subject with any separator
        ("CHEM", "101", "", True),
        ("chem", "101", " ", False),  # lower case is prose
        ("cHem", "101", " ", False),
        ("CHem", "101", " ", False),
        ("CHEM", "10", " ", False),  # the catalog's numbers have three digits
        ("CHEM", "1010", " ", False),
        ("CHEM", "101A", " ", True),  # digits are counted before the suffix
        ("PHYS", "211", " ", True),  # unknown, but printed in capitals in the catalog's shape
        ("Phys", "211", " ", False),  # unknown subjects must be in capitals
        ("PHYS", "211", "-", False),  # ... and use the catalog's separator
        ("PHYS", "211", " - ", False),
        ("PHYS", "211", "", False),
        ("GPA", "300", " ", False),
        ("PHYSICS", "211", " ", False),  # seven letters
        ("PH", "211", " ", False),  # shorter than the catalog's subjects
    ],
)
def test_accepts(subject: str, number: str, sep: str, accepted: bool) -> None:
    """What counts as a course code of the four-letter, three-digit, space-separated catalog."""
    assert SHAPE.accepts(subject, number, sep) is accepted


def test_accepts_defaults_to_a_space_separator() -> None:
    """Without a separator an unknown subject is judged as if printed with a space."""
    assert SHAPE.accepts("PHYS", "211") is True
    dashed = CatalogShape(separator="-")
    assert dashed.accepts("PHYS", "211") is False
    assert dashed.accepts("PHYS", "211", "\u2013") is True


def test_normalise_prints_the_catalogs_shape() -> None:
    """Subject and number in capitals, joined by the catalog's separator."""
    assert CatalogShape(separator="-").normalise("Chem", "101a") == "CHEM-101A"
    assert CatalogShape(separator="").normalise("chem", "101") == "CHEM101"


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("MATH 2 years", []),
        ("CHEM 3 hours", []),
        ("MATH 2 YEARS", []),
        ("CHEM 101 or 102 Credits", [["CHEM 101"]]),
        ("Credit in CHEM 101 or 102.", [["CHEM 101", "CHEM 102"]]),  # a unit word before the codes is no matter
        ("CHEM 101 or 2 credits", [["CHEM 101"]]),
        ("CHEM 101 and 102 units", [["CHEM 101"]]),
        ("CHEM 101 and 102 hrs", [["CHEM 101"]]),
        ("CHEM 101 and 102 cr", [["CHEM 101"]]),
        ("CHEM 101 or 102 points", [["CHEM 101"]]),
        ("CHEM 101 or 102 semesters", [["CHEM 101"]]),
        ("CHEM 101 or 102%", [["CHEM 101"]]),
        ("CHEM 101 or 102 crab", [["CHEM 101", "CHEM 102"]]),  # "cr" is a whole word only
    ],
)
def test_a_number_followed_by_a_unit_is_no_course(text: str, groups: list[list[str]]) -> None:
    """``2 years``, ``3 hours``, ``102 units`` are amounts, not course numbers."""
    assert parse_prerequisites(text, SHAPE) == groups


# --- follow-on numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("CHEM 101 and 102", [["CHEM 101"], ["CHEM 102"]]),
        ("CHEM 101 or 102", [["CHEM 101", "CHEM 102"]]),
        ("CHEM 101/102", [["CHEM 101", "CHEM 102"]]),
        ("CHEM 101 & 102", [["CHEM 101"], ["CHEM 102"]]),
        ("CHEM 101 plus 102", [["CHEM 101"], ["CHEM 102"]]),
        ("CHEM 101 or (102 and MATH 120)", [["CHEM 101", "CHEM 102"], ["CHEM 101", "MATH 120"]]),
        ("101 or CHEM 102", [["CHEM 102"]]),  # no code before the number
        ("or 102 with consent; CHEM 101", [["CHEM 101"]]),  # ... not even one printed later
        ("Any 2 of CHEM 101, 102 or 103", [["CHEM 101", "CHEM 102", "CHEM 103"]]),  # a count is no course
        ("MATH 120 and Section 121", [["MATH 120"]]),  # a word between: a section number, no course
        ("junior standing and 102", []),
        ("CHEM 101 (102)", [["CHEM 101"]]),  # no connective: a note, not a second course
        ("CHEM 101 or 1020", [["CHEM 101"]]),  # not as many digits as the code before it
        ("CHEM 1010 or 102", [["CHEM 1010"]]),
        ("CHEM 101 or 102A", [["CHEM 101", "CHEM 102A"]]),
        ("MATH 120 and credit in 121", [["MATH 120"]]),  # words between: not a follow-on
    ],
)
def test_a_bare_number_takes_the_subject_of_the_code_before_it(text: str, groups: list[list[str]]) -> None:
    """Only right after a code and a connective, and only with as many digits as that code's number."""
    shape = CatalogShape.from_rows([course("CHEM 101"), course("CHEM 1010"), course("MATH 120")])
    assert parse_prerequisites(text, shape) == groups


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("CHEM 101-102", [["CHEM 101"], ["CHEM 102"]]),
        ("CHEM 101 - 102", [["CHEM 101"], ["CHEM 102"]]),
        ("CHEM 101\u2013102", [["CHEM 101"], ["CHEM 102"]]),
        ("CHEM 101-103", []),  # a range of three
        ("CHEM 102-101", []),  # backwards
        ("CHEM 101A-102", []),  # not plain numbers
        ("CHEM 101-102A", []),
        ("CHEM 101-102 or MATH 120", [["CHEM 101"], ["CHEM 102", "MATH 120"]]),
        ("CHEM 101, -102", [["CHEM 101"]]),  # a dash after another connective is no sequence
        ("CHEM 201 and 301-399", [["CHEM 201"]]),
        ("CHEM 301-399 or CHEM 201 and 202", [["CHEM 201"], ["CHEM 202"]]),  # reading goes on after a range
    ],
)
def test_a_dash_between_consecutive_numbers_is_a_sequence_else_a_range(text: str, groups: list[list[str]]) -> None:
    """``CHEM 101-102`` requires both courses; any other pair of numbers is a range and names nothing."""
    assert parse_prerequisites(text, SHAPE) == groups


# --- grouping -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("CHEM 101, MATH 120", [["CHEM 101"], ["MATH 120"]]),  # a comma alone means and
        ("CHEM 101, MATH 120, or BIOL 110", [["CHEM 101", "MATH 120", "BIOL 110"]]),
        ("CHEM 101, MATH 120 or BIOL 110", [["CHEM 101", "MATH 120", "BIOL 110"]]),
        ("CHEM 101, CHEM 102, MATH 120, or BIOL 110", [["CHEM 101", "CHEM 102", "MATH 120", "BIOL 110"]]),
        ("CHEM 101, CHEM 102, MATH 120 or BIOL 110", [["CHEM 101", "CHEM 102", "MATH 120", "BIOL 110"]]),
        ("CHEM 101, MATH 120, and BIOL 110 or CHEM 102", [["CHEM 101"], ["MATH 120"], ["BIOL 110", "CHEM 102"]]),
        ("CHEM 101, or MATH 120", [["CHEM 101", "MATH 120"]]),  # the word after a comma decides
        ("CHEM 101 or, MATH 120", [["CHEM 101", "MATH 120"]]),  # a comma after the word keeps the word's kind
        ("CHEM 101, MATH 120 or", [["CHEM 101"], ["MATH 120"]]),  # a dangling "or" joins nothing
        ("and CHEM 101", [["CHEM 101"]]),  # a leading connective joins nothing
        ("or CHEM 101 and MATH 120", [["CHEM 101"], ["MATH 120"]]),
        ("CHEM 101 and/or MATH 120", [["CHEM 101", "MATH 120"]]),
        ("CHEM 101 AND MATH 120 OR BIOL 110", [["CHEM 101"], ["MATH 120", "BIOL 110"]]),
    ],
)
def test_commas_take_the_kind_of_the_next_connective_word(text: str, groups: list[list[str]]) -> None:
    """``A, B, or C`` is any of three; ``A, B`` is both; ``or`` binds tighter than ``and``."""
    assert parse_prerequisites(text, SHAPE) == groups


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("MATH 120 (CHEM 101 or CHEM 102)", [["MATH 120"], ["CHEM 101", "CHEM 102"]]),  # a bracket of codes: and
        ("CHEM 101 (and CHEM 102)", [["CHEM 101"], ["CHEM 102"]]),
        ("CHEM 101 (and CHEM 102) or MATH 120", [["CHEM 101"], ["CHEM 102", "MATH 120"]]),
        ("CHEM 101 (or CHEM 102) and MATH 120", [["CHEM 101", "CHEM 102"], ["MATH 120"]]),
        ("CHEM 101 (see notes) or MATH 120", [["CHEM 101", "MATH 120"]]),  # a note does not break the "or"
        ("CHEM 101 (", [["CHEM 101"]]),
        ("(CHEM 101 or MATH 120) (BIOL 110)", [["CHEM 101", "MATH 120"], ["BIOL 110"]]),
        ("Junior standing (CHEM 101)", [["CHEM 101"]]),
    ],
)
def test_brackets_group_and_annotate(text: str, groups: list[list[str]]) -> None:
    """A bracket that starts with a connective continues the list; one without codes is a note."""
    assert parse_prerequisites(text, SHAPE) == groups


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("A grade of C or better in CHEM 101", [["CHEM 101"]]),
        ("C or better in CHEM 101 or MATH 120", [["CHEM 101", "MATH 120"]]),
        ("CHEM 101 with C or better and MATH 120", [["CHEM 101"], ["MATH 120"]]),
        ("permission or CHEM 101", [["CHEM 101"]]),
        ("CHEM 101 or permission and MATH 120", [["CHEM 101"], ["MATH 120"]]),
    ],
)
def test_words_are_not_alternatives(text: str, groups: list[list[str]]) -> None:
    """Words qualify a code or stand for a non-course requirement; either way they add no code."""
    assert parse_prerequisites(text, SHAPE) == groups


def test_an_or_of_and_groups_is_distributed() -> None:
    """``(A and B) or (C and D)`` is four groups: every pairing of one side with the other."""
    assert parse_prerequisites("(CHEM 101 and CHEM 102) or (MATH 120 and BIOL 110)", SHAPE) == [
        ["CHEM 101", "MATH 120"],
        ["CHEM 101", "BIOL 110"],
        ["CHEM 102", "MATH 120"],
        ["CHEM 102", "BIOL 110"],
    ]
    assert parse_prerequisites("CHEM 101 or (CHEM 102 and MATH 120) or BIOL 110", SHAPE) == [
        ["CHEM 101", "CHEM 102", "BIOL 110"],
        ["CHEM 101", "MATH 120", "BIOL 110"],
    ]


@pytest.mark.xfail(strict=True, reason="bug: a code after qualifying words joins the last group with 'and'")
def test_an_alternative_qualified_by_a_grade_stays_an_alternative() -> None:
    """``MATH 120 or a grade of C in CHEM 101`` is either course, not both (today: both are required)."""
    assert parse_prerequisites("MATH 120 or a grade of C in CHEM 101", SHAPE) == [["MATH 120", "CHEM 101"]]


def _all_of(numbers: range) -> str:
    return "(" + " and ".join(f"CHEM {n}" for n in numbers) + ")"


def test_distribution_is_capped_at_32_groups() -> None:
    """4 x 8 = 32 groups are distributed; 3 x 11 = 33 become one ``or``-group of every code, in order."""
    left, right = range(101, 105), range(201, 209)
    groups = parse_prerequisites(f"{_all_of(left)} or {_all_of(right)}", SHAPE)
    assert groups == [[f"CHEM {a}", f"CHEM {b}"] for a in left for b in right]
    assert len(groups) == 32

    left, right = range(101, 104), range(201, 212)
    assert parse_prerequisites(f"{_all_of(left)} or {_all_of(right)}", SHAPE) == [
        [f"CHEM {n}" for n in (*left, *right)]
    ]


def test_distribution_cap_counts_the_groups_so_far() -> None:
    """A third alternative multiplies the groups already distributed: 2 x 4 = 8, then 8 x 5 = 40 > 32."""
    text = f"{_all_of(range(101, 103))} or {_all_of(range(201, 205))} or {_all_of(range(301, 306))}"
    groups = parse_prerequisites(text, SHAPE)
    assert len(groups) == 1
    assert sorted(groups[0]) == [f"CHEM {n}" for n in (101, 102, 201, 202, 203, 204, 301, 302, 303, 304, 305)]


# --- de-duplication -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("CHEM 101 or CHEM 101", [["CHEM 101"]]),
        ("CHEM 101 or Chem 101 or MATH 120", [["CHEM 101", "MATH 120"]]),
        ("CHEM 101; CHEM 101.", [["CHEM 101"]]),
        ("(CHEM 101 or MATH 120) and (MATH 120 or CHEM 101)", [["CHEM 101", "MATH 120"]]),
        ("MATH 120 or CHEM 101; CHEM 101", [["MATH 120", "CHEM 101"], ["CHEM 101"]]),
    ],
)
def test_repeated_codes_and_groups_are_kept_once(text: str, groups: list[list[str]]) -> None:
    """A code once per group and a group once per text, whatever order it was printed in."""
    assert parse_prerequisites(text, SHAPE) == groups


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t", "None", "See department."])
def test_no_text_no_codes(text: str | None) -> None:
    """Empty or code-free text names nothing."""
    assert parse_prerequisites(text, SHAPE) == []


def test_required_codes_lists_every_code_once_in_order() -> None:
    """The flat ``prerequisite_codes`` of a row: first appearance wins."""
    assert required_codes([["B", "A"], ["C"], ["A", "D"]]) == ["B", "A", "C", "D"]
    assert required_codes([]) == []


# --- the catalog's shape ------------------------------------------------------------------------------


def test_shape_from_rows_reads_subjects_separator_and_digits() -> None:
    """Subjects are upper-cased, cross-listed subjects split, odd ones skipped; the separator is the usual one."""
    shape = CatalogShape.from_rows(
        [
            course("CHEM 101", "-"),
            course("Chem 102", "-"),
            course("BIO-CHE 210", "-"),
            course("A&M 300", " "),
            {"course_code": "CSCE/STAT 320", "subject": "CSCE/STAT", "number": "320"},
            {"course_code": "X1-100", "subject": "X1", "number": "100"},
            {"course_code": "Q-100", "subject": "Q", "number": "100"},
        ]
    )
    assert shape.subjects == {"CHEM", "BIO-CHE", "A&M", "CSCE", "STAT"}
    assert shape.separator == "-"
    assert shape.digits == {3}
    assert shape.subject_lengths == (2, 6)  # A&M and BIOCHE: letters only


@pytest.mark.parametrize(
    ("printed", "separator"),
    [
        (["CHEM 101", "CHEM 102", "MATH-120"], " "),
        (["CHEM 101", "CHEM-102", "MATH-120"], "-"),  # counted, not the first one seen
        (["CHEM 101-101L", "CHEM 102", "MATH-120"], " "),  # a combined lecture-lab code: the first number counts
        (["BIOC-101", "BIOC-102", "MATH 120"], " "),  # a code printed under another subject says nothing
        (["CHEM-101", "CHEM-102", "MATH 120"], "-"),
        (["CHEM\u2013101", "CHEM\u2010102", "MATH 120"], "-"),
        (["CHEM101", "CHEM102", "MATH 120"], ""),
        (["chem-101", "Chem-102", "MATH 120"], "-"),  # printed case does not matter
        (["101 CHEM", "102 CHEM", "Calculus"], " "),  # codes that do not start with the subject: the default
    ],
)
def test_the_separator_is_the_most_common_one(printed: list[str], separator: str) -> None:
    """The separator between subject and number in most of the catalog's printed codes."""
    rows = [
        {"course_code": code, "subject": subject, "number": number}
        for code, (subject, number) in zip(printed, [("CHEM", "101"), ("CHEM", "102"), ("MATH", "120")])
    ]
    assert CatalogShape.from_rows(rows).separator == separator


def test_rows_without_subject_or_number_do_not_shape_the_catalog() -> None:
    """A row missing its subject or number adds no subject, digit count or separator."""
    shape = CatalogShape.from_rows(
        [
            course("CHEM 101", "-"),
            {"course_code": "BIOL 1100", "subject": "BIOL", "number": None},
            {"course_code": "PHYS 2200", "subject": None, "number": "2200"},
            {"course_code": "GEOL 3300", "subject": "  ", "number": "3300"},
            {"course_code": "ASTR 4400", "number": "4400"},
            {"course_code": None, "subject": "ECON", "number": ""},
            course("GEOG 250", "-"),
        ]
    )
    assert shape.subjects == {"CHEM", "GEOG"}
    assert shape.digits == {3}
    assert shape.separator == "-"
    assert shape.codes == {"CHEM-101", "GEOG-250"}


def test_a_catalog_without_subjects_has_the_default_shape() -> None:
    """No usable rows: the default shape, with no codes of its own."""
    assert CatalogShape.from_rows([]) == CatalogShape()
    none = CatalogShape.from_rows([{"course_code": "Intro", "subject": "", "number": ""}])
    assert (none.subjects, none.separator, none.digits, none.subject_lengths, none.codes) == (
        frozenset(),
        " ",
        frozenset({3, 4}),
        (2, 5),
        frozenset(),
    )


def test_digit_lengths_below_a_tenth_of_the_numbers_are_ignored() -> None:
    """A number length counts when at least 10% of the numbers have it: 1 in 10 does, 1 in 11 does not."""
    nine = [course(f"CHEM {n}") for n in range(101, 110)]
    assert CatalogShape.from_rows([*nine, course("MATH 1200")]).digits == {3, 4}
    assert CatalogShape.from_rows([*nine, course("CHEM 110"), course("MATH 1200")]).digits == {3}
    assert CatalogShape.from_rows([course("CHEM 12A"), course("CHEM 1B")]).digits == {1, 2}


def test_numbers_without_leading_digits_fall_back_to_three_or_four() -> None:
    """When no number starts with digits the digit lengths are the default ones."""
    shape = CatalogShape.from_rows([{"course_code": "CHEM A1", "subject": "CHEM", "number": "A1"}])
    assert shape.digits == {3, 4}
    assert shape.subjects == {"CHEM"}


def test_the_catalogs_own_codes() -> None:
    """Every code printed in a row's ``course_code`` and every row's own ``subject number``, in the catalog's shape."""
    shape = CatalogShape.from_rows(
        [
            {"course_code": "chem-101", "subject": "chem", "number": "101a"},
            course("MATH 120", "-"),
            {"course_code": "CIVE-451/851", "subject": "CIVE", "number": "451"},
            {"course_code": "ENVE 333", "subject": "ENVE/CIVE", "number": "333"},
        ]
    )
    assert shape.separator == "-"
    assert shape.codes == {"CHEM-101A", "MATH-120", "CIVE-451", "CIVE-851", "ENVE-333"}


# --- prerequisite rows and edges ----------------------------------------------------------------------

KEYS = {"source_id": "s1", "document_id": "d1", "institution": "Example U"}


def edge(course_code: str, required: str, group: int, kind: str, in_catalog: bool) -> dict[str, Any]:
    """One ``prerequisites.parquet`` row of the ``KEYS`` document, every column."""
    return {
        **KEYS,
        "course_code": course_code,
        "entry_id": f"{course_code}#1",
        "required_code": required,
        "group": group,
        "kind": kind,
        "required_in_catalog": in_catalog,
    }


def catalog_row(code: str, text: str | None) -> dict[str, Any]:
    return course(code, **KEYS, entry_id=f"{code}#1", prerequisites=text)


def test_edges_number_and_groups_and_mark_or_groups() -> None:
    """One edge per required code: 1-based group numbers, ``or`` for alternatives, ``and`` for a lone code."""
    rows = [
        catalog_row("CHEM 101", None),
        catalog_row("MATH 120", None),
        catalog_row("CHEM 201", "CHEM 101 and (MATH 120 or PHYS 121) and BIOL 110 or BIOL 111"),
    ]
    out, edges = prerequisite_rows(rows)
    assert [row["prerequisite_codes"] for row in out] == [
        [],
        [],
        ["CHEM 101", "MATH 120", "PHYS 121", "BIOL 110", "BIOL 111"],
    ]
    assert out[2] == {**rows[2], "prerequisite_codes": out[2]["prerequisite_codes"]}
    assert edges == [
        edge("CHEM 201", "CHEM 101", 1, "and", True),
        edge("CHEM 201", "MATH 120", 2, "or", True),
        edge("CHEM 201", "PHYS 121", 2, "or", False),
        edge("CHEM 201", "BIOL 110", 3, "or", False),
        edge("CHEM 201", "BIOL 111", 3, "or", False),
    ]


def test_a_course_never_requires_itself() -> None:
    """Its own code leaves its groups; a group left empty goes and the next ones are renumbered."""
    rows = [
        catalog_row("CHEM 101", "CHEM 101 and MATH 120"),
        catalog_row("CHEM 102", "CHEM 102; CHEM 101 or CHEM 102"),
        catalog_row("MATH 120", "Math 120 or CHEM 101 and CHEM 102"),
    ]
    out, edges = prerequisite_rows(rows)
    assert [row["prerequisite_codes"] for row in out] == [["MATH 120"], ["CHEM 101"], ["CHEM 101", "CHEM 102"]]
    assert edges == [
        edge("CHEM 101", "MATH 120", 1, "and", True),
        edge("CHEM 102", "CHEM 101", 1, "and", True),  # an or-group of one left: a lone code
        edge("MATH 120", "CHEM 101", 1, "and", True),
        edge("MATH 120", "CHEM 102", 2, "and", True),
    ]


def test_own_code_is_recognised_by_subject_and_number_in_the_catalogs_shape() -> None:
    """A row printed ``Chem 101`` is still ``CHEM-101`` in a dashed catalog, and so is its own prerequisite text."""
    rows = [
        course("MATH 120", "-"),
        {"course_code": "Chem 101", "subject": "Chem", "number": "101", "prerequisites": "CHEM-101 or MATH-120"},
        {"course_code": "BIOL-110", "subject": None, "number": None, "prerequisites": "BIOL-110 or MATH-120"},
    ]
    out, edges = prerequisite_rows(rows)
    assert [row["prerequisite_codes"] for row in out] == [[], ["MATH-120"], ["MATH-120"]]
    assert [(e["course_code"], e["required_code"], e["group"], e["kind"]) for e in edges] == [
        ("Chem 101", "MATH-120", 1, "and"),
        ("BIOL-110", "MATH-120", 1, "and"),
    ]
    assert all(e["required_in_catalog"] for e in edges)


def test_cross_listed_rows_do_not_drop_their_subjects_codes() -> None:
    """A row of subject ``CSCE/STAT`` excludes only its printed code, not some code built from the joined subject."""
    rows = [
        {"course_code": "CSCE 320", "subject": "CSCE/STAT", "number": "320", "prerequisites": "CSCE 320 or STAT 320"},
        course("MATH 120", prerequisites="MATH 120 and CSCE 320"),
    ]
    out, edges = prerequisite_rows(rows)
    assert [row["prerequisite_codes"] for row in out] == [["STAT 320"], ["CSCE 320"]]
    assert [(e["course_code"], e["required_code"], e["required_in_catalog"]) for e in edges] == [
        ("CSCE 320", "STAT 320", False),
        ("MATH 120", "CSCE 320", True),
    ]


def test_edges_of_rows_without_keys_carry_nones() -> None:
    """Missing row keys are ``None`` in the edge, never an error; the rows themselves are left unchanged."""
    rows = [course("CHEM 101"), course("CHEM 102", prerequisites="CHEM 101")]
    out, edges = prerequisite_rows(rows)
    assert "prerequisite_codes" not in rows[1]
    assert out == [{**rows[0], "prerequisite_codes": []}, {**rows[1], "prerequisite_codes": ["CHEM 101"]}]
    assert edges == [
        {
            "source_id": None,
            "document_id": None,
            "institution": None,
            "course_code": "CHEM 102",
            "entry_id": None,
            "required_code": "CHEM 101",
            "group": 1,
            "kind": "and",
            "required_in_catalog": True,
        }
    ]
