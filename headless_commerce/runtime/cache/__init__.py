"""Response caching in Valkey/Redis shared by the commerce API and the storefront."""
