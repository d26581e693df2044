"""The OpenSearch index: explicit mapping (dynamic: strict), analyzers, shard layout.

- English analyzer on text (stemming: "sneakers" and "sneaker" match) for relevance;
- an edge-n-gram sub-field of `name` for type-ahead and partial words ("headph");
- keyword fields for facets and filters, price as integer minor units, an in-stock flag and
  the created date for the "newest" sort.
"""

from __future__ import annotations

MAX_EDGE_GRAM = 20


def index_body(replicas: int = 0) -> dict:
    return {
        "settings": {
            "index": {"number_of_shards": 1, "number_of_replicas": replicas},
            "analysis": {
                "filter": {
                    "edge_grams": {"type": "edge_ngram", "min_gram": 1, "max_gram": MAX_EDGE_GRAM},
                },
                "analyzer": {
                    "autocomplete_index": {"type": "custom", "tokenizer": "standard",
                                           "filter": ["lowercase", "asciifolding", "edge_grams"]},
                    "autocomplete_search": {"type": "custom", "tokenizer": "standard",
                                            "filter": ["lowercase", "asciifolding"]},
                },
            },
        },
        "mappings": {
            # A field nobody declared is a bug in the indexer, not something to guess a type for.
            "dynamic": "strict",
            "properties": {
                "product_id": {"type": "keyword"},
                "name": {
                    "type": "text", "analyzer": "english",
                    "fields": {
                        "autocomplete": {"type": "text", "analyzer": "autocomplete_index",
                                         "search_analyzer": "autocomplete_search"},
                        "keyword": {"type": "keyword", "ignore_above": 256},
                    },
                },
                "brand": {"type": "text", "analyzer": "english",
                          "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
                "description": {"type": "text", "analyzer": "english"},
                "category_id": {"type": "keyword"},
                "price_amount": {"type": "integer"},
                "currency": {"type": "keyword", "index": False, "doc_values": False},
                "images": {"type": "keyword", "index": False, "doc_values": False},
                "in_stock": {"type": "boolean"},
                "created_at": {"type": "date"},
            },
        },
    }
