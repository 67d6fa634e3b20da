# Workspace prod: the production account. Set logs_kms_key_arn to the account's key for SSE-KMS.
aws_region             = "us-east-1"
assignments_table_name = "DeliveryAssignments"
logs_bucket_name       = "trucking-suite-prod-dispatch-operational-logs"
