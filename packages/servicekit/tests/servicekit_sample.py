"""A small app built on servicekit, as a service would build one, for the servicekit tests."""

from __future__ import annotations

from flask import Flask
from pydantic import BaseModel, Field
from servicekit import ServiceSettings, create_app, endpoint, public
from servicekit.errors import ApiProblem

SECRET = "unit-test-secret-key-long-enough-for-every-hmac-algorithm-0123456789"


class Settings(ServiceSettings):
    service_name: str = "sample"


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    quantity: int = Field(ge=1)


class ItemOut(BaseModel):
    name: str
    quantity: int


class Paging(BaseModel):
    limit: int = Field(20, ge=1, le=100)


def build_app(settings: Settings, readiness=None) -> Flask:
    app = create_app(settings, import_name=__name__, readiness=readiness, title="sample")

    @app.post("/items")
    @endpoint(summary="Create an item", body=ItemIn, response=ItemOut, status=201)
    def create_item(body: ItemIn):
        return body.model_dump(), 201

    @app.get("/items")
    @endpoint(summary="List items", query=Paging)
    def list_items(query: Paging):
        return {"limit": query.limit}

    @app.get("/items/<uuid:item_id>")
    def get_item(item_id):
        raise ApiProblem(404, "Item not found", f"No item {item_id}.")

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    @app.get("/open")
    @public
    def open_endpoint():
        return {"open": True}

    return app
