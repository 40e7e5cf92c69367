"""factory-boy factories: one module per app (users, retrieval, briefs, review)."""
