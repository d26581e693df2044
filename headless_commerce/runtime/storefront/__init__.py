"""The storefront: a server-rendered backend-for-frontend over the commerce API.

Runs as a container (Fargate behind an ALB in AWS, uvicorn serving `app.create_app()`) and
inside `headless-commerce local`. Unlike the Lambda code beside it, it depends on starlette,
jinja2, httpx and redis-py (runtime/storefront/requirements.txt).
"""
