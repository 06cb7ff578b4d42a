"""Sample course catalogs for ``ocr-pipeline demo``, the tests and the benchmarks.

Deterministic synthetic catalogs in eight layouts, born-digital (a real text layer) or "scanned"
(image-only), each with the entries it printed as ground truth: see ``generator``. Rendering needs
reportlab, which is not a runtime dependency of the pipeline: install the ``samples`` extra
(``pip install 'ocr_pipeline[samples]'``; the ``dev`` extra has it too). Importing this package
without it raises ``ModuleNotFoundError`` for ``reportlab``.
"""

from .generator import LAYOUTS, SyntheticCatalog, TruthCourse, generate_catalog, scan, truth_from_json, truth_to_json
from .truth import truth_json_text

__all__ = [
    "LAYOUTS",
    "SyntheticCatalog",
    "TruthCourse",
    "generate_catalog",
    "scan",
    "truth_from_json",
    "truth_json_text",
    "truth_to_json",
]
