"""Create dispatch-service's DynamoDB table and S3 bucket on the local AWS endpoint (moto or LocalStack).

The local stack's counterpart of infra/terraform: the table comes from the service's own definition
(dispatch_service/adapters/table_schema.py), which tests/static/test_terraform.py holds equal to
infra/terraform/dynamodb.tf. Idempotent.
"""

from __future__ import annotations

import os

import boto3
from dispatch_service.adapters import table_schema

TABLE = os.environ.get("ASSIGNMENTS_TABLE", "DeliveryAssignments")
BUCKET = os.environ.get("LOGS_BUCKET", "dispatch-operational-logs")


def main() -> None:
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)
    created = table_schema.provision(dynamodb, TABLE)
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region)
    if BUCKET not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    print(f"table {TABLE} {'created' if created else 'present'}; bucket {BUCKET} ready at {endpoint}")


if __name__ == "__main__":
    main()
