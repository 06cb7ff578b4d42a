"""One dynamic partition per source PDF (not per page, so the UI stays fast with thousands)."""

import dagster as dg

catalog_documents = dg.DynamicPartitionsDefinition(name="catalog_documents")
