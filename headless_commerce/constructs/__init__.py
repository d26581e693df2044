"""Reusable L3 constructs, one capability per module."""
