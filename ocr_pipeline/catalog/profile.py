"""Per-institution parsing profiles: what a catalog's conventions are when they cannot be inferred.

A profile is a small YAML file a user can add without touching code, e.g.
``profiles/example-university.yaml``::

    institution: Example University
    code_pattern: '(?P<subject>[A-Z]{3,4})(?P<sep>-)(?P<number>\\d{3})'
    prerequisite_labels: [Prerequisites, Pre-requisites, Requires]
    credit_labels: [Credits, Semester Hours]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from ocr_pipeline.catalog.codes import DEFAULT_CODE_PATTERN


@dataclass(frozen=True)
class CatalogProfile:
    """Conventions the parser uses; every field has a default that fits most catalogs."""

    institution: str | None = None
    code_pattern: str = DEFAULT_CODE_PATTERN
    prerequisite_labels: tuple[str, ...] = (
        "Prerequisite",
        "Prerequisites",
        "Prerequisite(s)",
        "Prereq",
        "Prereqs",
        "Pre-requisite",
        "Pre-requisites",
        "PR",
        "Requires",
        "Voraussetzungen",
        "Zugangsvoraussetzungen",
        "Teilnahmevoraussetzungen",
    )
    corequisite_labels: tuple[str, ...] = (
        "Corequisite",
        "Corequisites",
        "Corequisite(s)",
        "Co-requisite",
        "Co-requisites",
    )
    credit_labels: tuple[str, ...] = (
        "Credits",
        "Credit",
        "Credit Hours",
        "Units",
        "ECTS",
        "ECTS credits",
        "ECTS Credits",
        "Hours",
        "Credit Points",
        "Leistungspunkte",
        "Kreditpunkte",
    )
    title_labels: tuple[str, ...] = (
        "Title",
        "Course Title",
        "Module Title",
        "Course Name",
        "Module Name",
        "Course",
        "Module",
        "Modulname",
        "Modultitel",
        "Veranstaltung",
        "Lehrveranstaltung",
    )
    """Labels of the field that holds the title on forms (one unit per page)."""
    description_labels: tuple[str, ...] = ("Description", "Course Description", "Content", "Course Content", "Summary")

    @property
    def prerequisite_pattern(self) -> re.Pattern[str]:
        labels = "|".join(re.escape(label) for label in sorted(self.prerequisite_labels, key=len, reverse=True))
        return re.compile(rf"\b(?:{labels})\s*:?\s*", re.IGNORECASE)

    @property
    def inline_prerequisite_pattern(self) -> re.Pattern[str]:
        """A prerequisite label with its colon inside running text (``... years. Prerequisite: X``)."""
        labels = "|".join(re.escape(label) for label in sorted(self.prerequisite_labels, key=len, reverse=True))
        return re.compile(rf"\b(?:{labels})\s*:\s*", re.IGNORECASE)


def load_profile(path: Path) -> CatalogProfile:
    """Read one YAML profile; unknown keys are an error so typos do not pass silently."""
    data = yaml.safe_load(path.read_text()) or {}
    known = set(CatalogProfile.__dataclass_fields__)
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"{path}: unknown profile keys {sorted(unknown)}; known: {sorted(known)}")
    for key, value in data.items():
        if isinstance(value, list):
            data[key] = tuple(value)
    if "code_pattern" in data:
        re.compile(data["code_pattern"])
    return replace(CatalogProfile(), **data)


def profile_for(institution: str | None, directory: Path | None) -> CatalogProfile:
    """The profile whose ``institution`` matches (case-insensitive), else the defaults."""
    if directory is None or not directory.is_dir() or institution is None:
        return CatalogProfile(institution=institution)
    for path in sorted(directory.glob("*.y*ml")):
        profile = load_profile(path)
        if profile.institution and profile.institution.casefold() == institution.casefold():
            return profile
    return CatalogProfile(institution=institution)
