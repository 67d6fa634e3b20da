"""Create the dispatch service's DynamoDB table and S3 bucket on the local AWS endpoint (moto).

The local stack's counterpart of infra/terraform, with the same names and keys; idempotent.
"""

from __future__ import annotations

import os

import boto3

TABLE = os.environ.get("ASSIGNMENTS_TABLE", "DeliveryAssignments")
BUCKET = os.environ.get("LOGS_BUCKET", "dispatch-operational-logs")


def main() -> None:
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)
    if TABLE not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"} for name in ("assignmentDate", "packageId", "driverId")
            ],
            KeySchema=[
                {"AttributeName": "assignmentDate", "KeyType": "HASH"},
                {"AttributeName": "packageId", "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "byDriver",
                    "KeySchema": [
                        {"AttributeName": "driverId", "KeyType": "HASH"},
                        {"AttributeName": "assignmentDate", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region)
    if BUCKET not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=BUCKET)


if __name__ == "__main__":
    main()
