"""HTTP layer of bakery-service: one blueprint per resource."""

from flask import Flask

from ..settings import Settings


def register_blueprints(app: Flask, settings: Settings) -> None:
    """Each resource's blueprint is registered here."""
