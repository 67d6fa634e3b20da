# Workspace test: a real AWS account for integration testing; credentials from the usual AWS chain.
aws_region             = "us-east-1"
assignments_table_name = "DeliveryAssignments"
logs_bucket_name       = "trucking-suite-test-dispatch-operational-logs"
