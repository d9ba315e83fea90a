"""Page logic: pure functions over the store (and the catalogue built from it at start-up)."""
