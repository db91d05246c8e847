"""`circhat serve`: the HTTP JSON API a shop's own storefront calls (FastAPI, versioned `/v1`).

Modules: `app` (the factory and the worker's start-up), `routes` (the endpoints), `models`
(the pydantic records on the wire), `sessions` (turns over ui/session.py's Conversation, state
in a store), `store` (SQLite or Redis), `items` (catalogue, items and their images), `limits`
(keys, rate, sizes), `errors` (one JSON shape with stable codes).
"""
