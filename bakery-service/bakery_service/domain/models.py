"""Request and response models of bakery-service (pydantic); the OpenAPI document is built from them.

Amounts are ``StrictInt | StrictFloat`` so that pydantic never turns ``1`` into ``1.0`` or the reverse: the
JSON type is the unit (see amounts.py). Employees speak camelCase, as the bakery's brief shows them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel

from .amounts import GRAM_STEP, MAX_AMOUNT, Unit

# A name gives an id or an address (its snake_case form), so it needs an ASCII letter or digit; no NUL.
NAME_PATTERN = r"^[^\x00]*[A-Za-z0-9][^\x00]*$"
# Blank means whitespace as every regex dialect on the way counts it, written out: the \s of Python, of the Rust
# engine pydantic validates with and of JSON Schema's ECMA-262 differ (U+001C-U+001F, U+0085, U+FEFF), so a
# name one of them calls blank would pass the document and be refused, or the reverse.
_SPACE = "\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
INGREDIENT_NAME_PATTERN = f"^[^\\x00]*[^{_SPACE}\\x00][^\\x00]*$"
Grams = Annotated[StrictFloat, Field(gt=0, le=MAX_AMOUNT, multiple_of=GRAM_STEP)]
Units = Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT)]
IngredientName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=INGREDIENT_NAME_PATTERN)]
# Surrounding spaces are dropped when stored, not by the model: the limits then hold for what is sent.
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NAME_PATTERN)]


def _whole_float_as_int(value: object) -> object:
    # JSON Schema's integer includes 2.0; a string or a bool stays refused (strict below).
    return int(value) if isinstance(value, float) and value.is_integer() else value


Count = Annotated[StrictInt, Field(ge=1, le=1000), BeforeValidator(_whole_float_as_int)]


def _ingredients_schema(min_items: int) -> WithJsonSchema:
    # pydantic writes a key pattern as patternProperties, which leaves other keys free; propertyNames says it.
    return WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"type": "string", "minLength": 1, "maxLength": 100},
            "patternProperties": {
                INGREDIENT_NAME_PATTERN: {
                    "anyOf": [
                        {"type": "integer", "exclusiveMinimum": 0, "maximum": MAX_AMOUNT, "description": "units"},
                        {
                            "type": "number",
                            "exclusiveMinimum": 0,
                            "maximum": MAX_AMOUNT,
                            "multipleOf": GRAM_STEP,
                            "description": "grams (a JSON number with a decimal point)",
                        },
                    ]
                }
            },
            "additionalProperties": False,
            "minProperties": min_items,
            "maxProperties": 50,
        }
    )


Ingredients = Annotated[dict[IngredientName, Units | Grams], Field(min_length=1, max_length=50), _ingredients_schema(1)]
Extras = Annotated[dict[IngredientName, Units | Grams], Field(max_length=50), _ingredients_schema(0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- cakes -----------------------------------------------------------------------------------------------
class CakeCreate(Strict):
    name: Text
    ingredients: Ingredients = Field(
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
OrderState = Literal["placed", "ready", "cancelled"]


class OrderCreate(Strict):
    customer: Text
    recipe: Annotated[str, StringConstraints(max_length=200, pattern=r"^[a-z0-9]+(_[a-z0-9]+)*$")] = Field(
        description="A cake id (snake_case)."
    )
    persons: Count
    quantity: Count
    extra_ingredients: Extras = Field(
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
    state: OrderState
    ticket_key: str | None = None
    ready: ReadyNotice | None = None
    cancelled_at: datetime | None = None
    created_at: datetime


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_day(value: object) -> object:
    # Only YYYY-MM-DD: pydantic alone would also take a number of seconds or a date-time for a date.
    if isinstance(value, str) and not _ISO_DAY.match(value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]


class OrderQuery(Strict):
    """Which orders a page shows: filters (all optional, combined with AND) and the page, newest first."""

    customer: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None,
        description="Orders whose customer name contains this text, in any case (`cake` finds Mr. Cakelover).",
    )
    state: OrderState | None = Field(default=None, description="Only orders in this state.")
    placed_from: Day | None = Field(default=None, description="Placed on this day (YYYY-MM-DD) or later.")
    placed_to: Day | None = Field(
        default=None, description="Placed on this day (YYYY-MM-DD) or earlier. Before placed_from: no order matches."
    )
    utc_offset_minutes: Annotated[int, Field(ge=-720, le=840)] = Field(
        default=0,
        description="Where the days of placed_from/placed_to begin: minutes east of UTC (120 for UTC+2); 0 is UTC.",
    )
    limit: Annotated[int, Field(ge=1, le=500)] = Field(default=100, description="Orders on the page.")
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = Field(
        default=0, description="Matching orders skipped before the page (newest first): offset = limit × (page − 1)."
    )


class OrderPage(BaseModel):
    items: list[Order] = Field(description="The page: newest first.")
    total: int = Field(description="Orders matching the filters, on every page.")
    limit: int
    offset: int


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


GithubUsername = Annotated[str, StringConstraints(max_length=39, pattern=r"^[A-Za-z0-9](?:-?[A-Za-z0-9])*$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=INGREDIENT_NAME_PATTERN)]


class Permissions(Camel):
    developer: StrictBool = False


class EmployeeCreate(Camel):
    # A developer needs a GitHub account: said in the schema too, so that clients know before they send.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["githubUsername"], "properties": {"githubUsername": {"type": "string"}}},
                {"properties": {"permissions": {"properties": {"developer": {"const": False}}}}},
            ]
        }
    )

    first_name: Name
    last_name: Name
    github_username: GithubUsername | None = None
    permissions: Permissions = Field(default_factory=Permissions)

    @model_validator(mode="after")
    def _developer_has_an_account(self) -> EmployeeCreate:
        if self.permissions.developer and not self.github_username:
            raise ValueError("a developer needs a githubUsername (GitHub access is granted to that account)")
        return self


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
    state: Literal["pending", "held", "done", "failed"]
    at: datetime
    error: str | None = None


class DeadLetter(BaseModel):
    id: str = Field(description="The action's id: POST /integrations/actions/<id>/replay sends it again.")
    action: str
    attempts: int
    error: str | None = Field(description="The last error: why it is here.")
    at: datetime
    payload: dict[str, Any]


class IntegrationStatus(BaseModel):
    name: IntegrationName
    configured: bool
    status: Literal["enabled", "disabled"] = Field(
        description="disabled: no credentials; its actions are held (not pending) and go out once it is configured."
    )
    pending: int = Field(description="Actions waiting to be sent (due, or waiting out a retry).")
    held: int = Field(description="Actions kept while the integration is disabled.")
    failed: int = Field(description="Actions in the dead letter (refused for good, or out of attempts).")
    done: int
    last_result: LastResult | None = None
    dead_letters: list[DeadLetter] = Field(description="The newest actions of the dead letter (20 at most).")


class IntegrationList(BaseModel):
    items: list[IntegrationStatus]


class ReplayResult(BaseModel):
    name: IntegrationName
    requeued: int = Field(description="Pending, held and dead-lettered actions made due now.")


class ActionReplayResult(BaseModel):
    id: str
    integration: IntegrationName
    action: str
    requeued: bool


class WebhookResult(BaseModel):
    ticket_key: str | None
    cancelled: list[int] = Field(description="Orders this delivery cancelled (none when redelivered).")


NO_NUL = r"^[^\x00]*$"


class LoginRequest(Strict):
    email: Annotated[str, StringConstraints(min_length=1, max_length=320, pattern=NO_NUL)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=NO_NUL)]


class Token(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme's name
    expires_in: int
