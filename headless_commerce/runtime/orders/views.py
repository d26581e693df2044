"""What a client sees of an order (internal fingerprints and keys stay out)."""

from __future__ import annotations

from headless_commerce.runtime.common.money import money


def order_view(order: dict) -> dict:
    currency = order["currency"]
    view = {
        "order_id": order["order_id"],
        "status": order["status"],
        "lines": [{"sku": l["sku"], "product_id": l["product_id"], "name": l["name"],
                   "quantity": l["quantity"], "unit_price": money(l["unit_price"], currency),
                   "line_total": money(l["unit_price"] * l["quantity"], currency)}
                  for l in order["lines"]],
        "total": money(order["total"], currency),
        "created_at": order["created_at"],
        "updated_at": order["updated_at"],
        "shipping_address": order.get("shipping_address"),
    }
    payment = order.get("payment")
    if payment:
        view["payment"] = {"provider": payment["provider"], "status": payment["status"],
                           "decline_code": payment.get("decline_code")}
    return view


def order_summary(order: dict) -> dict:
    return {"order_id": order["order_id"], "status": order["status"],
            "total": money(order["total"], order["currency"]),
            "item_count": sum(l["quantity"] for l in order["lines"]),
            "created_at": order["created_at"]}
