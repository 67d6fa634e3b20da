# dispatch-service's assignments: one item per driver and package (partition key driver_id, sort key
# package_id), plus the service's bookkeeping items (per-day package claims and run markers, see
# dispatch-service/README.md). dispatch-service/dispatch_service/adapters/table_schema.py declares the same
# table; tests/static/test_terraform.py fails when the two disagree.
resource "aws_dynamodb_table" "delivery_assignments" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS-managed key; a customer key is an account decision and LocalStack ignores it.
  name                        = var.assignments_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "driver_id"
  range_key                   = "package_id"
  deletion_protection_enabled = local.environment.deletion_protection

  attribute {
    name = "driver_id"
    type = "S"
  }

  attribute {
    name = "package_id"
    type = "S"
  }

  attribute {
    name = "assignment_date"
    type = "S"
  }

  attribute {
    name = "status"
    type = "S"
  }

  # GET /assignments?date=&status=: a day's assignments (of one status) without scanning the table.
  # Claims and run markers have no assignment_date, so the index holds assignments only.
  global_secondary_index {
    name            = "by_date_status"
    hash_key        = "assignment_date"
    range_key       = "status"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  depends_on = [terraform_data.workspace_guard]
}
