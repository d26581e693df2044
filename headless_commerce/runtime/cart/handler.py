"""Lambda entry point for the cart routes."""

from headless_commerce.runtime.cart import service
from headless_commerce.runtime.common.dispatch import api_handler

handler = api_handler("cart", {
    "getCart": lambda r: service.get_cart(r.user().sub),
    "addCartItem": lambda r: service.add_item(r.user().sub, r.body["sku"], r.body["quantity"]),
    "updateCartItem": lambda r: service.set_quantity(
        r.user().sub, r.path_params["sku"], r.body["quantity"]),
    "removeCartItem": lambda r: service.remove_item(r.user().sub, r.path_params["sku"]),
})
