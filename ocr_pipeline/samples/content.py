"""Seeded course content: subjects, codes, titles, descriptions and prerequisites.

Everything here draws from a caller-supplied ``random.Random`` so that a catalog is a pure
function of its seed. Layout-specific details (code format, credit notation) are supplied by
the layouts through small callbacks.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Subject:
    """An academic subject with the abbreviations the various code styles use."""

    name: str
    abbrev: str  # 2-4 letters: "CS", "MATH"
    abbrev3: str  # 2-3 letters: "INF", "MAT"
    abbrev4: str  # 4 letters: "CSCI", "MATH"
    topics: tuple[str, ...]


SUBJECTS: tuple[Subject, ...] = (
    Subject(
        "Accounting",
        "ACCT",
        "ACC",
        "ACCT",
        (
            "Financial Accounting",
            "Managerial Accounting",
            "Auditing",
            "Taxation",
            "Cost Accounting",
            "Accounting Information Systems",
            "Fraud Examination",
            "Governmental Accounting",
        ),
    ),
    Subject(
        "Biology",
        "BIOL",
        "BIO",
        "BIOL",
        (
            "Cell Biology",
            "Genetics",
            "Ecology",
            "Human Anatomy",
            "Physiology",
            "Microbiology",
            "Evolution",
            "Marine Biology",
            "Plant Biology",
            "Field Ecology",
        ),
    ),
    Subject(
        "Chemistry",
        "CHEM",
        "CHE",
        "CHEM",
        (
            "Organic Chemistry",
            "General Chemistry",
            "Biochemistry",
            "Analytical Chemistry",
            "Chemical Thermodynamics",
            "Spectroscopy",
            "Inorganic Chemistry",
        ),
    ),
    Subject(
        "Computer Science",
        "CS",
        "INF",
        "CSCI",
        (
            "Programming",
            "Data Structures",
            "Algorithms",
            "Operating Systems",
            "Computer Networks",
            "Machine Learning",
            "Databases",
            "Compilers",
            "Software Engineering",
            "Computing",
        ),
    ),
    Subject(
        "Economics",
        "ECON",
        "ECO",
        "ECON",
        (
            "Microeconomics",
            "Macroeconomics",
            "Econometrics",
            "Game Theory",
            "Public Finance",
            "Labor Economics",
            "Economic Development",
        ),
    ),
    Subject(
        "History",
        "HIST",
        "HIS",
        "HIST",
        (
            "World History",
            "Modern Europe",
            "Colonial America",
            "East Asian History",
            "Historical Methods",
            "Medieval Europe",
            "Atlantic History",
        ),
    ),
    Subject(
        "Mathematics",
        "MATH",
        "MAT",
        "MATH",
        (
            "Calculus",
            "Linear Algebra",
            "Differential Equations",
            "Probability",
            "Number Theory",
            "Real Analysis",
            "Topology",
            "Discrete Mathematics",
        ),
    ),
    Subject(
        "Physics",
        "PHYS",
        "PHY",
        "PHYS",
        (
            "Mechanics",
            "Electricity and Magnetism",
            "Quantum Mechanics",
            "Optics",
            "Astrophysics",
            "Fluid Dynamics",
            "Modern Physics",
        ),
    ),
    Subject(
        "Psychology",
        "PSYC",
        "PSY",
        "PSYC",
        (
            "Cognitive Psychology",
            "Social Psychology",
            "Developmental Psychology",
            "Neuroscience",
            "Abnormal Psychology",
            "Research Methods",
            "Personality",
        ),
    ),
    Subject(
        "English",
        "ENGL",
        "ENG",
        "ENGL",
        (
            "Composition",
            "American Literature",
            "Creative Writing",
            "Shakespeare",
            "Rhetoric",
            "Poetry",
            "Literary Theory",
        ),
    ),
    Subject(
        "Statistics",
        "STAT",
        "STA",
        "STAT",
        (
            "Statistical Inference",
            "Regression Analysis",
            "Sampling",
            "Bayesian Statistics",
            "Experimental Design",
            "Time Series",
        ),
    ),
    Subject(
        "Philosophy",
        "PHIL",
        "PHI",
        "PHIL",
        (
            "Ethics",
            "Logic",
            "Philosophy of Mind",
            "Epistemology",
            "Political Philosophy",
            "Aesthetics",
        ),
    ),
    Subject(
        "Geology",
        "GEOL",
        "GEO",
        "GEOL",
        (
            "Physical Geology",
            "Mineralogy",
            "Sedimentology",
            "Hydrogeology",
            "Geophysics",
        ),
    ),
    Subject(
        "General Studies",
        "GS",
        "GS",
        "GNST",
        (
            "Academic Writing",
            "Research Ethics",
            "Scientific Communication",
            "Teaching Practice",
            "Professional Development",
        ),
    ),
)

GENERAL_STUDIES = SUBJECTS[-1]

CodeFn = Callable[[random.Random, Subject], str]

_ADJECTIVES = (
    "Advanced",
    "Applied",
    "Introductory",
    "Contemporary",
    "Comparative",
    "Quantitative",
    "Experimental",
    "Computational",
    "Theoretical",
    "Global",
    "Modern",
    "Elementary",
)
_SMALL_WORDS = frozenset({"and", "of", "to", "in", "for", "the"})

_PROPER_NOUNS = frozenset({"America", "American", "Asian", "Atlantic", "Bayesian", "East", "Europe", "Shakespeare"})
_OPENERS = (
    "This course introduces",
    "Students examine",
    "An in-depth study of",
    "A survey of",
    "The course develops",
    "Students explore",
    "Covers",
    "Emphasis is placed on",
    "Introduces students to",
)
_OBJECTS = (
    "the fundamental principles of {topic}",
    "core methods used in {topic}",
    "current research in {topic}",
    "the historical development of {topic}",
    "practical applications of {topic}",
    "key concepts and techniques of {topic}",
    "the scientific foundations of {topic}",
    "quantitative approaches to {topic}",
)
_MIDDLES = (
    "Topics include {a}, {b}, and {c}.",
    "Students complete weekly problem sets and a final project on {a}.",
    "Laboratory sessions reinforce {a} and {b} through guided experiments.",
    "Particular attention is given to {a} and its influence on {b}.",
    "The course draws on case studies in {a} and {b}.",
    "Assignments emphasize {a}, critical reflection, and clear written communication.",
    "Readings cover {a} as well as recent work on {b}.",
    "Students learn to apply {a} to problems in {b}.",
)
_CLOSERS = (
    "Designed for majors and minors in {subject}.",
    "Includes a significant writing component.",
    "May be repeated once for credit when the topic differs.",
    "Field trips may be required.",
    "Offered in alternate years.",
    "Students should expect a substantial amount of independent work.",
    "Open to students with a specific interest in {subject}.",
)
_FILLERS = (
    "data analysis",
    "experimental design",
    "scientific writing",
    "field methods",
    "model building",
    "information flow",
    "financial reporting",
    "conflict resolution",
    "efficient algorithms",
    "classification methods",
    "theoretical frameworks",
    "problem solving",
    "professional ethics",
    "quantitative reasoning",
    "fluid systems",
    "research design",
    "statistical modeling",
    "profile analysis",
    "policy evaluation",
)
_PREREQ_TEMPLATES = (
    "{a}.",
    "{a} and {b}.",
    "{a} or {b}.",
    "{a} with a grade of C or better.",
    "{a} and {b} or permission of instructor.",
    "Junior standing or {a}.",
    "{a}; {b} recommended.",
    "Consent of instructor.",
)
_FIRST_NAMES = (
    "Maria",
    "James",
    "Aiko",
    "Olu",
    "Priya",
    "Lars",
    "Chen",
    "Fatima",
    "Diego",
    "Grace",
    "Nikolai",
    "Amara",
    "Samuel",
    "Ingrid",
)
_LAST_NAMES = (
    "Alvarez",
    "Okafor",
    "Nakamura",
    "Lindqvist",
    "Patel",
    "Morrison",
    "Kowalski",
    "Haddad",
    "Brennan",
    "Osei",
    "Fischer",
    "Tanaka",
    "Reyes",
    "Whitfield",
)


@dataclass(frozen=True)
class CourseContent:
    """Layout-independent content of one catalog entry."""

    subject: Subject
    code: str
    title: str
    description: str
    prerequisites: str | None


def natural_key(code: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key ordering course codes by letters, then numerically by digits."""
    return tuple((1, int(part)) if part.isdigit() else (0, part) for part in re.findall(r"\d+|\D+", code))


def title_case(text: str) -> str:
    """Capitalise each word except small connectives (never the first word)."""
    words = text.split()
    return " ".join(
        w if (i and w.lower() in _SMALL_WORDS) or w in {"II", "III", "&"} else w[0].upper() + w[1:]
        for i, w in enumerate(words)
    )


def make_title(rng: random.Random, subject: Subject) -> str:
    """A 2-6 word Title Case course title about the subject."""
    while True:
        topic, other = rng.sample(subject.topics, 2)
        pattern = rng.choice(
            (
                "{adj} {topic}",
                "Introduction to {topic}",
                "{topic} and {other}",
                "Principles of {topic}",
                "{topic} II",
                "{topic} & {other}",
                "Topics in {adj} {topic}",
                "Foundations of {topic}",
                "Seminar in {topic}",
                "{adj} {topic} Laboratory",
            )
        )
        title = title_case(pattern.format(adj=rng.choice(_ADJECTIVES), topic=topic, other=other))
        if 2 <= len(title.split()) <= 6:
            return title


def make_description(rng: random.Random, subject: Subject) -> str:
    """A 1-4 sentence description of 20-70 words."""
    while True:
        topic = " ".join(w if w in _PROPER_NOUNS else w.lower() for w in rng.choice(subject.topics).split())
        sentences = [f"{rng.choice(_OPENERS)} {rng.choice(_OBJECTS).format(topic=topic)}."]
        for _ in range(rng.randint(0, 2)):
            a, b, c = rng.sample(_FILLERS, 3)
            sentences.append(rng.choice(_MIDDLES).format(a=a, b=b, c=c))
        if rng.random() < 0.5:
            sentences.append(rng.choice(_CLOSERS).format(subject=subject.name))
        text = " ".join(sentences)
        if 20 <= len(text.split()) <= 70:
            return text


def make_prerequisites(rng: random.Random, refs: Sequence[str]) -> str:
    """Prose prerequisites mentioning the given (non-entry) course codes."""
    template = rng.choice(_PREREQ_TEMPLATES)
    return template.format(a=refs[0], b=refs[1])


def person_name(rng: random.Random) -> str:
    """A plausible faculty name."""
    return f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"


def pick_subjects(rng: random.Random, k: int) -> list[Subject]:
    """k distinct departmental subjects (General Studies excluded), sorted by abbreviation."""
    pool = [s for s in SUBJECTS if s is not GENERAL_STUDIES]
    return sorted(rng.sample(pool, k), key=lambda s: s.abbrev)


class CodeBook:
    """Issues unique course codes, keeping catalog entries apart from codes only mentioned in prose."""

    def __init__(self, rng: random.Random, code_fn: CodeFn) -> None:
        self._rng = rng
        self._code_fn = code_fn
        self.used: set[str] = set()

    def new(self, subject: Subject) -> str:
        """A code for ``subject`` not issued before."""
        while True:
            code = self._code_fn(self._rng, subject)
            if code not in self.used:
                self.used.add(code)
                return code


def make_courses(
    rng: random.Random,
    n: int,
    code_fn: CodeFn,
    subjects: Sequence[Subject],
    *,
    prereq_rate: float = 0.65,
) -> tuple[list[CourseContent], CodeBook]:
    """``n`` courses sorted by code; prerequisites only reference codes that are not entries.

    The returned ``CodeBook`` can issue further non-entry codes (e.g. for intro prose).
    """
    book = CodeBook(rng, code_fn)
    picks = [rng.choice(subjects) for _ in range(n)]
    codes = [book.new(s) for s in picks]
    courses = []
    for subject, code in zip(picks, codes):
        prereq = None
        if rng.random() < prereq_rate:
            refs = [book.new(subject), book.new(rng.choice(subjects))]
            prereq = make_prerequisites(rng, refs)
        courses.append(CourseContent(subject, code, make_title(rng, subject), make_description(rng, subject), prereq))
    courses.sort(key=lambda c: natural_key(c.code))
    return courses, book


def intro_text(rng: random.Random, institution: str, mentions: Sequence[str]) -> str:
    """Introductory prose for page 1 that mentions (non-entry) course codes."""
    a, b = mentions[0], mentions[1]
    return (
        f"This section of the {institution} catalog lists the courses offered during the "
        f"academic year. Course descriptions are provided for planning purposes only and are "
        f"subject to change. Students who have completed {a} elsewhere should consult their "
        f"advisor before enrolling; {b} is no longer offered and has been replaced by the "
        f"courses below. {rng.choice(('Questions', 'Inquiries'))} about placement should be "
        f"directed to the registrar."
    )
