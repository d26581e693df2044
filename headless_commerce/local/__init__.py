"""Local mode: the whole store on one machine with no AWS account.

moto's server is the embedded AWS; an HTTP adapter turns requests into API Gateway proxy events
for the very same Lambda handlers; background threads run the event flow (stream -> relay ->
bus -> queues -> consumers); a demo or file catalog is seeded through the repository layer.
Entry point: `headless-commerce local` (headless_commerce/cli.py) -> local.server.LocalCommerce.
"""
