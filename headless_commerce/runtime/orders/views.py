"""What a client sees of an order (internal fingerprints and keys stay out)."""

from __future__ import annotations

from headless_commerce.runtime.common.money import money


def order_view(order: dict) -> dict:
    currency = order["currency"]
    view = {
        "order_id": order["order_id"],
        "status": order["status"],
        "lines": [{"sku": line["sku"], "product_id": line["product_id"], "name": line["name"],
                   "quantity": line["quantity"], "unit_price": money(line["unit_price"], currency),
                   "line_total": money(line["unit_price"] * line["quantity"], currency)}
                  for line in order["lines"]],
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
            "item_count": sum(line["quantity"] for line in order["lines"]),
            "created_at": order["created_at"]}
