"""Each asset's work as plain Python over the object stores; the Dagster layer only wires it."""
