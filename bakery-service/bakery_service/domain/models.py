"""Request and response models of bakery-service (pydantic); the OpenAPI document is built from them.

Amounts are ``StrictInt | StrictFloat`` so that pydantic never turns ``1`` into ``1.0`` or the reverse: the
JSON type is the unit (see amounts.py). Employees speak camelCase, as the bakery's brief shows them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
)
from pydantic.alias_generators import to_camel

from .amounts import Unit
from .naming import snake_case

JsonAmount = StrictInt | StrictFloat
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Ingredients = Annotated[dict[str, JsonAmount], Field(max_length=50)]
Count = Annotated[StrictInt, Field(ge=1, le=1000)]


def _has_snake_case_form(name: str) -> str:
    if not snake_case(name):
        raise ValueError("the name needs at least one letter or digit (it gives the id)")
    return name


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- cakes -----------------------------------------------------------------------------------------------
class CakeCreate(Strict):
    name: Annotated[Text, AfterValidator(_has_snake_case_form)]
    ingredients: Annotated[Ingredients, Field(min_length=1)] = Field(
        description="Per eater: grams as a decimal number (33.5), units as an integer (1).",
        examples=[{"chocolate": 33.5, "butter": 16.5, "flour": 8.5, "sugar": 16.5, "eggs": 1}],
    )


class Cake(BaseModel):
    id: str
    name: str
    ingredients: dict[str, int | float] = Field(description="Per eater, as created: floats are grams, integers units.")
    units: dict[str, Unit] = Field(description="What each amount counts: g (grams) or unit.")
    created_at: datetime


class CakeList(BaseModel):
    items: list[Cake]


# --- orders ----------------------------------------------------------------------------------------------
class OrderCreate(Strict):
    customer: Annotated[Text, AfterValidator(_has_snake_case_form)]
    recipe: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(description="A cake id.")
    persons: Count
    quantity: Count
    extra_ingredients: Ingredients = Field(
        default_factory=dict, description="Added once to the whole order (shared by all its cakes)."
    )


class RequiredIngredient(BaseModel):
    ingredient: str
    amount: int | float = Field(description="Exact: grams as a decimal number, units as an integer.")
    unit: Unit
    display: str = Field(examples=["268 g", "8"])


class ReadyNotice(BaseModel):
    at: datetime = Field(description="When the order was marked ready.")
    state: Literal["pending", "sent"]
    channel: Literal["slack", "email"] | None = None
    recipient: str | None = Field(default=None, description="The Slack user id or the e-mail address.")
    notified_at: datetime | None = None


class Order(BaseModel):
    id: int
    customer: str
    recipe: str
    recipe_name: str
    persons: int
    quantity: int
    extra_ingredients: dict[str, int | float]
    required_ingredients: list[RequiredIngredient]
    state: Literal["placed", "ready", "cancelled"]
    ticket_key: str | None = None
    ready: ReadyNotice | None = None
    cancelled_at: datetime | None = None
    created_at: datetime


class OrderList(BaseModel):
    items: list[Order]


# --- batches ---------------------------------------------------------------------------------------------
class BatchResult(BaseModel):
    batch_id: int | None = Field(description="None when no order was waiting for a ticket.")
    orders: list[int]
    ingredients: list[RequiredIngredient]
    label: str | None = None
    ticket_key: str | None = Field(default=None, description="Set once the Jira action has run.")


# --- employees -------------------------------------------------------------------------------------------
class Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


GithubUsername = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=39, pattern=r"^[A-Za-z0-9](?:-?[A-Za-z0-9])*$")
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class Permissions(Camel):
    developer: StrictBool = False


class EmployeeCreate(Camel):
    first_name: Name
    last_name: Name
    github_username: GithubUsername | None = None
    permissions: Permissions = Field(default_factory=Permissions)


class PermissionsPatch(Camel):
    developer: StrictBool | None = None


class EmployeePatch(Camel):
    first_name: Name | None = None
    last_name: Name | None = None
    github_username: GithubUsername | None = None
    permissions: PermissionsPatch | None = None


class Employee(Camel):
    id: int
    first_name: str
    last_name: str
    github_username: str | None
    permissions: Permissions
    created_at: datetime


class EmployeeList(Camel):
    items: list[Employee]


# --- integrations ----------------------------------------------------------------------------------------
IntegrationName = Literal["jira", "slack", "email", "drive", "github"]


class LastResult(BaseModel):
    action: str
    state: Literal["pending", "done", "failed"]
    at: datetime
    error: str | None = None


class IntegrationStatus(BaseModel):
    name: IntegrationName
    configured: bool
    pending: int
    failed: int
    done: int
    last_result: LastResult | None = None


class IntegrationList(BaseModel):
    items: list[IntegrationStatus]


class ReplayResult(BaseModel):
    name: IntegrationName
    requeued: int = Field(description="Pending and failed actions made due now.")


class WebhookResult(BaseModel):
    ticket_key: str | None
    cancelled: list[int] = Field(description="Orders this delivery cancelled (none when redelivered).")


class LoginRequest(Strict):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class Token(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme's name
    expires_in: int
