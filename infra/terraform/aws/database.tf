# PostgreSQL for the schemas fleet, loadboard, bakery (and audit where Mongo is not used). RDS manages and
# rotates the master password in Secrets Manager; the services' DATABASE_URL secret is set from it by the
# deploy runbook (README.md), for a least-privileged application role created by the migrations.
resource "aws_db_subnet_group" "main" {
  name       = local.name
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_db_parameter_group" "postgres" {
  name   = "${local.name}-postgres17"
  family = "postgres17"

  parameter {
    name  = "log_min_duration_statement"
    value = "500"
  }

  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name         = "rds.force_ssl"
    value        = "1"
    apply_method = "pending-reboot"
  }
}

resource "aws_db_instance" "postgres" {
  identifier                          = local.name
  engine                              = "postgres"
  engine_version                      = "17.6"
  instance_class                      = local.environment.db_instance_class
  allocated_storage                   = local.environment.db_storage_gb
  max_allocated_storage               = local.environment.db_storage_gb * 5
  storage_type                        = "gp3"
  storage_encrypted                   = true
  kms_key_id                          = aws_kms_key.main.arn
  db_name                             = "suite"
  username                            = "suite_admin"
  manage_master_user_password         = true
  master_user_secret_kms_key_id       = aws_kms_key.main.arn
  iam_database_authentication_enabled = true
  db_subnet_group_name                = aws_db_subnet_group.main.name
  vpc_security_group_ids              = [aws_security_group.db.id]
  parameter_group_name                = aws_db_parameter_group.postgres.name
  multi_az                            = local.environment.db_multi_az
  publicly_accessible                 = false
  backup_retention_period             = local.environment.deletion_protection ? 30 : 7
  deletion_protection                 = local.environment.deletion_protection
  skip_final_snapshot                 = !local.environment.deletion_protection
  final_snapshot_identifier           = "${local.name}-final"
  copy_tags_to_snapshot               = true
  auto_minor_version_upgrade          = true
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]
  performance_insights_enabled        = true
  performance_insights_kms_key_id     = aws_kms_key.main.arn
  monitoring_interval                 = 60
  monitoring_role_arn                 = aws_iam_role.rds_monitoring.arn
}

resource "aws_iam_role" "rds_monitoring" {
  name = "${local.name}-rds-monitoring"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "monitoring.rds.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

# Redis: fleet-api's GET /loads cache, gpt-service's summary cache and quota pause, and every user's token
# version (database 2, read by all six services). Encrypted at rest
# and in transit, with an auth token; a replica per extra zone, with automatic failover.
resource "aws_elasticache_subnet_group" "main" {
  name       = local.name
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_elasticache_replication_group" "redis" {
  replication_group_id       = local.name
  description                = "Cache of the trucking suite (${terraform.workspace})"
  engine                     = "redis"
  engine_version             = "7.1"
  node_type                  = local.environment.redis_node_type
  num_cache_clusters         = 1 + local.environment.redis_replicas
  automatic_failover_enabled = true
  multi_az_enabled           = true
  port                       = 6379
  subnet_group_name          = aws_elasticache_subnet_group.main.name
  security_group_ids         = [aws_security_group.redis.id]
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.main.arn
  transit_encryption_enabled = true
  auth_token                 = random_password.redis_auth.result
  snapshot_retention_limit   = local.environment.deletion_protection ? 7 : 1
  auto_minor_version_upgrade = true

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.redis.name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }
}

resource "aws_cloudwatch_log_group" "redis" {
  name              = "/trucking-suite/${terraform.workspace}/redis"
  retention_in_days = local.environment.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}
