"""Consent fan-out consumers that keep consent records outside the commerce table."""
