"""One dynamic partition per source PDF (not per page, so the UI stays fast with thousands)."""

import dagster as dg

CATALOG_DOCUMENTS = "catalog_documents"
catalog_documents = dg.DynamicPartitionsDefinition(name=CATALOG_DOCUMENTS)
