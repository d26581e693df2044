"""Marketing: consent-driven audiences kept by us (Pinpoint engagement is end-of-support)."""
