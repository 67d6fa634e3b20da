# Workspace dev: LocalStack. The endpoint comes from TF_VAR_aws_endpoint_url (docker-compose.yml sets
# http://localstack:4566; from the host use http://localhost:4566), so this file does not override it.
aws_region             = "us-east-1"
assignments_table_name = "DeliveryAssignments"
logs_bucket_name       = "dispatch-operational-logs"
