"""Product search: parameters, documents, providers (OpenSearch, local tantivy), indexer."""
