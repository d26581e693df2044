"""Event plumbing shared by producers and consumers: contracts, the outbox relay, and the
SQS consumer runner every event-driven function is built on."""
