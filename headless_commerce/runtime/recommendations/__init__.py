"""Recommendations: Amazon Personalize when a recommender is active, otherwise a ranking from
our own order events (popular lately, bought together), so a known catalog never gets an
empty slot."""
