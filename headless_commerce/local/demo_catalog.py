"""A deterministic demo catalog (seeded RNG) in the --catalog file format (CATALOG.md)."""

from __future__ import annotations

import random

DEFAULT_PRODUCTS = 240
SEED = 20260101

# (root id, root name, [(leaf id, leaf name, brands, nouns, (min, max) price in cents, variants)])
_TREE: list[tuple[str, str, list[tuple[str, str, list[str], list[str], tuple[int, int], str]]]] = [
    ("apparel", "Apparel", [
        ("tops", "Tops", ["Northline", "Kestrel", "Hearth & Co"],
         ["Tee", "Henley", "Polo", "Oxford Shirt", "Hoodie", "Crewneck"], (1500, 7900), "size"),
        ("bottoms", "Bottoms", ["Northline", "Drift Denim", "Kestrel"],
         ["Chinos", "Jeans", "Joggers", "Shorts", "Cargo Pants"], (2500, 9900), "size"),
        ("outerwear", "Outerwear", ["Summit Gear", "Northline"],
         ["Rain Jacket", "Puffer", "Fleece", "Windbreaker", "Parka"], (4900, 24900), "size"),
        ("footwear", "Footwear", ["Stride", "Northline", "Trailwise"],
         ["Sneakers", "Running Shoes", "Hiking Boots", "Sandals", "Canvas Sneakers"], (3900, 15900), "size"),
    ]),
    ("home", "Home & Kitchen", [
        ("cookware", "Cookware", ["Ironleaf", "Copperhill"],
         ["Skillet", "Dutch Oven", "Saucepan", "Wok", "Stock Pot"], (1900, 18900), "single"),
        ("tableware", "Tableware", ["Stoneware Studio", "Ironleaf"],
         ["Mug", "Dinner Plate", "Bowl Set", "Tumbler", "Serving Platter"], (900, 6900), "color"),
    ]),
    ("electronics", "Electronics", [
        ("audio", "Audio", ["Sonique", "Volt Labs"],
         ["Headphones", "Earbuds", "Bluetooth Speaker", "Soundbar", "Turntable"], (2900, 39900),
         "color"),
        ("accessories", "Accessories", ["Volt Labs", "Cablecraft"],
         ["USB-C Cable", "Charger", "Power Bank", "Phone Case", "Laptop Sleeve"], (900, 7900),
         "color"),
    ]),
    ("outdoors", "Outdoors", [
        ("camping", "Camping", ["Summit Gear", "Trailwise"],
         ["Tent", "Sleeping Bag", "Camp Stove", "Lantern", "Backpack"], (1900, 34900), "single"),
        ("cycling", "Cycling", ["Spoke & Chain", "Trailwise"],
         ["Helmet", "Bike Light", "Water Bottle", "Saddle Bag", "Gloves"], (900, 14900), "size"),
    ]),
    ("beauty", "Beauty", [
        ("skincare", "Skincare", ["Dewdrop", "Botanica"],
         ["Moisturizer", "Cleanser", "Serum", "Sunscreen", "Face Mask"], (900, 5900), "single"),
    ]),
]
_ADJECTIVES = ["Classic", "Everyday", "Premium", "Lightweight", "Heritage", "Urban", "Essential",
               "Pro", "Organic", "Compact", "Deluxe", "Recycled"]
_SIZES = ["S", "M", "L", "XL"]
_COLORS = ["Black", "White", "Slate", "Sand", "Forest"]


def categories() -> list[dict]:
    out = []
    for root_id, root_name, leaves in _TREE:
        out.append({"category_id": root_id, "name": root_name})
        out += [{"category_id": leaf[0], "name": leaf[1], "parent_id": root_id} for leaf in leaves]
    return out


def generate(products: int = DEFAULT_PRODUCTS, seed: int = SEED) -> dict:
    """`products` products spread over the leaf categories, the same for the same seed."""
    rng = random.Random(seed)
    leaves = [leaf for _, _, group in _TREE for leaf in group]
    items = []
    for index in range(products):
        leaf_id, _, brands, nouns, (low, high), variants = leaves[index % len(leaves)]
        product_id = f"p-{index + 1:04d}"
        brand = rng.choice(brands)
        name = f"{brand} {rng.choice(_ADJECTIVES)} {rng.choice(nouns)}"
        price = rng.randrange(low, high, 100) - 1   # 1999-style prices
        if variants == "size":
            options = [{"size": s} for s in _SIZES]
        elif variants == "color":
            options = [{"color": c} for c in rng.sample(_COLORS, 2)]
        else:
            options = [{}]
        skus = []
        for number, attributes in enumerate(options, start=1):
            sku = {"sku": f"{product_id}-{number}", "stock": rng.choice([0, 3, 10, 25, 50, 100]),
                   "attributes": attributes}
            if attributes.get("size") == "XL":
                sku["price_amount"] = price + 500
            skus.append(sku)
        items.append({
            "product_id": product_id, "name": name, "brand": brand, "category_id": leaf_id,
            "description": f"The {name.lower()} from {brand}: a demo product for local mode.",
            "price_amount": price, "currency": "USD",
            "images": [f"/assets/products/{product_id}.svg"],
            "skus": skus,
        })
    return {"categories": categories(), "products": items}
