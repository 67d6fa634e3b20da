# dispatch-service's bucket: operational logs (logs/day=<day>/..., JSON lines, one object per request) and
# the day's lists (manifests/<day>.json, what every assignment traces back to). Private, encrypted, versioned.
resource "aws_s3_bucket" "operational_logs" {
  #checkov:skip=CKV_AWS_18:Its objects are logs already; access to them is audited by CloudTrail data events, not a second bucket.
  #checkov:skip=CKV_AWS_144:Operational logs are diagnostics that runs reproduce, not records of truth; versioning guards deletions.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of this bucket; notifications would have no subscriber.
  bucket        = var.logs_bucket_name
  force_destroy = !local.environment.deletion_protection

  depends_on = [terraform_data.workspace_guard]
}

resource "aws_s3_bucket_ownership_controls" "operational_logs" {
  bucket = aws_s3_bucket.operational_logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "operational_logs" {
  bucket                  = aws_s3_bucket.operational_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "operational_logs" {
  bucket = aws_s3_bucket.operational_logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "operational_logs" {
  bucket = aws_s3_bucket.operational_logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.logs_kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.logs_kms_key_arn
    }
    bucket_key_enabled = var.logs_kms_key_arn != null
  }
}

# Logs are kept for the workspace's retention; versioning must not keep deleted objects forever.
resource "aws_s3_bucket_lifecycle_configuration" "operational_logs" {
  bucket = aws_s3_bucket.operational_logs.id

  rule {
    id     = "expire-operational-logs"
    status = "Enabled"

    # Only the logs expire: the day's lists are the input every assignment traces to.
    filter {
      prefix = "logs/"
    }

    expiration {
      days = local.environment.log_retention_days
    }
  }

  # The whole bucket: replaced versions go after 30 days, abandoned multipart uploads after 7.
  rule {
    id     = "tidy-versions-and-uploads"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.operational_logs]
}
