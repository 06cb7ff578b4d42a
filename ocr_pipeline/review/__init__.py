"""Human review of flagged pages: tasks, a durable store, a web page, consensus and corrections."""
