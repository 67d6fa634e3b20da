variable "aws_region" {
  description = "AWS region of every resource."
  type        = string
  default     = "us-east-1"
}

variable "aws_endpoint_url" {
  description = "One endpoint for DynamoDB, S3 and STS (LocalStack: http://localhost:4566). Null means real AWS."
  type        = string
  default     = null
}

variable "assignments_table_name" {
  description = "DynamoDB table of dispatch-service (its ASSIGNMENTS_TABLE setting)."
  type        = string
  default     = "DeliveryAssignments"
}

variable "logs_bucket_name" {
  description = "S3 bucket of dispatch-service's operational logs (its LOGS_BUCKET setting)."
  type        = string
  default     = "dispatch-operational-logs"
}

variable "logs_kms_key_arn" {
  description = "KMS key of the logs bucket; null encrypts with S3-managed keys (SSE-S3), which LocalStack supports."
  type        = string
  default     = null
}
