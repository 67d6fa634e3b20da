"""The DeliveryAssignments table as dispatch-service needs it; infra/terraform/dynamodb.tf declares the same.

tests/static/test_terraform.py fails when the two disagree. scripts/provision_aws.py and the service's own
provisioning (emulators only) create it from this definition.
"""

from __future__ import annotations

from typing import Any

BY_DATE_STATUS = "by_date_status"

KEY_SCHEMA = [
    {"AttributeName": "driver_id", "KeyType": "HASH"},
    {"AttributeName": "package_id", "KeyType": "RANGE"},
]
ATTRIBUTES = {"driver_id": "S", "package_id": "S", "assignment_date": "S", "status": "S"}
# GET /assignments?date=&status= reads a day (and a status) through this index; claims and run markers
# have no assignment_date, so the index holds assignments only.
GLOBAL_SECONDARY_INDEXES = [
    {
        "IndexName": BY_DATE_STATUS,
        "KeySchema": [
            {"AttributeName": "assignment_date", "KeyType": "HASH"},
            {"AttributeName": "status", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
]
BILLING_MODE = "PAY_PER_REQUEST"


def create_table_arguments(table_name: str) -> dict[str, Any]:
    return {
        "TableName": table_name,
        "BillingMode": BILLING_MODE,
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": t} for k, t in ATTRIBUTES.items()],
        "KeySchema": KEY_SCHEMA,
        "GlobalSecondaryIndexes": GLOBAL_SECONDARY_INDEXES,
        "SSESpecification": {"Enabled": True},
    }


def provision(client: Any, table_name: str) -> bool:
    """Create the table (with point-in-time recovery) if it is missing; True if it was created."""
    if table_name in client.list_tables()["TableNames"]:
        return False
    try:
        client.create_table(**create_table_arguments(table_name))
    except client.exceptions.ResourceInUseException:
        return False  # created meanwhile by another worker
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    client.update_continuous_backups(
        TableName=table_name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    return True
