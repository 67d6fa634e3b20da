# One Secrets Manager entry per secret the suite reads, encrypted with the suite's key. Terraform creates
# the entries, never their values (those would sit in the state): a person or the rotation runbook puts them
# (aws secretsmanager put-secret-value). Three are derived here: the two Redis URLs with its generated auth token,
# and the database password, which RDS itself manages and rotates.
resource "aws_secretsmanager_secret" "suite" {
  #checkov:skip=CKV2_AWS_57:Rotation of these (JWT key, API tokens of Jira, Slack, GitHub, OpenAI, Google) happens at each vendor; the runbook in README.md rotates them. The database password is rotated by RDS.
  for_each = local.secret_names

  name                    = "${local.name}/${each.key}"
  description             = "${each.key} of the trucking suite (${terraform.workspace})"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = local.environment.deletion_protection ? 30 : 7
}

resource "random_password" "redis_auth" {
  length  = 48
  special = false
}

resource "aws_secretsmanager_secret_version" "redis_url" {
  secret_id     = aws_secretsmanager_secret.suite["redis_url"].id
  secret_string = "rediss://:${random_password.redis_auth.result}@${aws_elasticache_replication_group.redis.primary_endpoint_address}:6379/0"
}

# Every user's token version, written by fleet-api and read by all six services (token revocation): database 2
# of the same Redis.
resource "aws_secretsmanager_secret_version" "auth_redis_url" {
  secret_id     = aws_secretsmanager_secret.suite["auth_redis_url"].id
  secret_string = "rediss://:${random_password.redis_auth.result}@${aws_elasticache_replication_group.redis.primary_endpoint_address}:6379/2"
}
