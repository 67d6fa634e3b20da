output "assignments_table_name" {
  description = "ASSIGNMENTS_TABLE of dispatch-service."
  value       = aws_dynamodb_table.delivery_assignments.name
}

output "assignments_table_arn" {
  description = "For the IAM policy of dispatch-service's role."
  value       = aws_dynamodb_table.delivery_assignments.arn
}

output "logs_bucket_name" {
  description = "LOGS_BUCKET of dispatch-service."
  value       = aws_s3_bucket.operational_logs.bucket
}
