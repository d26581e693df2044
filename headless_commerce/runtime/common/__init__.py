"""Shared runtime plumbing: HTTP, validation, errors, data access, idempotency, outbox."""
