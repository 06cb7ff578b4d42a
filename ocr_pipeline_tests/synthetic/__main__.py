"""``python -m ocr_pipeline_tests.synthetic``: see ``cli.main``."""

from .cli import main

raise SystemExit(main())
