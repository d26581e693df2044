"""A commerce function's routes served over HTTP from a container (AppTier's Fargate compute)."""
