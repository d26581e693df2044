"""Integration feeds: Kafka (MSK) records from the PIM and supply chain into the commerce table."""
