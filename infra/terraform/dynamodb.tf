# dispatch-service's daily assignments: one item per package and day, read back by day or by driver.
resource "aws_dynamodb_table" "delivery_assignments" {
  #checkov:skip=CKV_AWS_119:Encrypted at rest with the AWS-managed key; a customer key is an account decision and LocalStack ignores it.
  name                        = var.assignments_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "assignmentDate"
  range_key                   = "packageId"
  deletion_protection_enabled = local.environment.deletion_protection

  attribute {
    name = "assignmentDate"
    type = "S"
  }

  attribute {
    name = "packageId"
    type = "S"
  }

  attribute {
    name = "driverId"
    type = "S"
  }

  # A driver's packages of one day (or a range of days) without scanning the table.
  global_secondary_index {
    name            = "byDriver"
    hash_key        = "driverId"
    range_key       = "assignmentDate"
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
