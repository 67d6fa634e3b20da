# ECS on Fargate: one task definition and one service per process, in the private subnets, without public
# addresses. A read-only root file system, a non-root user, logs to CloudWatch, secrets from Secrets Manager.
resource "aws_ecs_cluster" "main" {
  name = local.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  depends_on = [terraform_data.workspace_guard]
}

resource "aws_cloudwatch_log_group" "process" {
  for_each = toset(concat(keys(local.services), keys(local.workers), ["migrations", "bakery-batch"]))

  name              = "/trucking-suite/${terraform.workspace}/${each.key}"
  retention_in_days = local.environment.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

# Service discovery: automation-service calls gpt-service at gpt-service.<cluster>.local.
resource "aws_service_discovery_private_dns_namespace" "main" {
  name = "${local.name}.local"
  vpc  = aws_vpc.main.id
}

resource "aws_service_discovery_service" "service" {
  for_each = local.services

  name = each.key
  dns_config {
    namespace_id = aws_service_discovery_private_dns_namespace.main.id
    dns_records {
      ttl  = 10
      type = "A"
    }
  }
}

locals {
  # What every container of the suite shares; the per-process parts are merged in below.
  container_base = {
    essential              = true
    user                   = "10001:10001"
    readonlyRootFilesystem = true
    linuxParameters        = { initProcessEnabled = true }
    mountPoints = [
      { sourceVolume = "tmp", containerPath = "/tmp", readOnly = false },
      { sourceVolume = "logs", containerPath = "/var/log/suite", readOnly = false },
    ]
  }

  processes = merge(
    { for name, s in local.services : name => {
      image       = name
      command     = null
      port        = s.port
      cpu         = s.cpu
      memory      = s.memory
      secrets     = s.secrets
      environment = merge(local.common_environment, { PORT = tostring(s.port), LOG_DIR = "/var/log/suite" }, s.environment)
    } },
    { for name, w in local.workers : name => {
      image       = w.image_of
      command     = w.command
      port        = null
      cpu         = 256
      memory      = 512
      secrets     = w.secrets
      environment = merge(local.common_environment, { LOG_DIR = "/var/log/suite" }, w.environment)
    } },
    {
      migrations = {
        image       = "migrations"
        command     = null
        port        = null
        cpu         = 256
        memory      = 512
        secrets     = ["database_url"]
        environment = {}
      }
      bakery-batch = {
        image       = "bakery-service"
        command     = ["flask", "--app", "bakery_service", "bakery", "run-batch"]
        port        = null
        cpu         = 256
        memory      = 512
        secrets     = local.services["bakery-service"].secrets
        environment = merge(local.common_environment, { LOG_DIR = "/var/log/suite", SCHEDULE_ENABLED = "false" }, local.services["bakery-service"].environment)
      }
    },
  )
}

resource "aws_ecs_task_definition" "process" {
  for_each = local.processes

  family                   = "${local.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task[each.key].arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  volume {
    name = "tmp"
  }

  volume {
    name = "logs"
  }

  container_definitions = jsonencode([merge(local.container_base, {
    name    = each.key
    image   = "${var.image_registry}/${each.value.image}:${var.image_tag}"
    command = each.value.command
    portMappings = each.value.port == null ? [] : [
      { containerPort = each.value.port, protocol = "tcp", name = "http" }
    ]
    environment = [for k, v in each.value.environment : { name = k, value = v }]
    secrets = [for s in each.value.secrets : {
      name      = s == "gcp_service_account_json" ? "GOOGLE_SERVICE_ACCOUNT_JSON" : upper(s)
      valueFrom = aws_secretsmanager_secret.suite[s].arn
    }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.process[each.key].name
        awslogs-region        = var.aws_region
        awslogs-stream-prefix = each.key
      }
    }
    healthCheck = each.value.port == null ? null : {
      command     = ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:${each.value.port}/healthz"]
      interval    = 10
      timeout     = 3
      retries     = 3
      startPeriod = 20
    }
  })])
}

resource "aws_ecs_service" "service" {
  for_each = local.services

  name                               = each.key
  cluster                            = aws_ecs_cluster.main.id
  task_definition                    = aws_ecs_task_definition.process[each.key].arn
  desired_count                      = local.environment.desired_count
  launch_type                        = "FARGATE"
  propagate_tags                     = "SERVICE"
  enable_execute_command             = false
  health_check_grace_period_seconds  = 60
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.service[each.key].arn
    container_name   = each.key
    container_port   = each.value.port
  }

  service_registries {
    registry_arn = aws_service_discovery_service.service[each.key].arn
  }

  depends_on = [aws_lb_listener.https]
}

resource "aws_ecs_service" "worker" {
  for_each = local.workers

  name                   = each.key
  cluster                = aws_ecs_cluster.main.id
  task_definition        = aws_ecs_task_definition.process[each.key].arn
  desired_count          = local.environment.desired_count
  launch_type            = "FARGATE"
  propagate_tags         = "SERVICE"
  enable_execute_command = false

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }
}

# The bakery's daily batch at 06:00 UTC: EventBridge Scheduler runs the bakery image's batch command.
resource "aws_scheduler_schedule" "bakery_batch" {
  name                         = "${local.name}-bakery-batch"
  schedule_expression          = "cron(0 6 * * ? *)"
  schedule_expression_timezone = "UTC"
  kms_key_arn                  = aws_kms_key.main.arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_ecs_cluster.main.arn
    role_arn = aws_iam_role.scheduler.arn

    ecs_parameters {
      task_definition_arn = aws_ecs_task_definition.process["bakery-batch"].arn
      launch_type         = "FARGATE"

      network_configuration {
        subnets          = aws_subnet.private[*].id
        security_groups  = [aws_security_group.tasks.id]
        assign_public_ip = false
      }
    }

    retry_policy {
      maximum_retry_attempts       = 3
      maximum_event_age_in_seconds = 3600
    }
  }
}

# automation-service's failure screenshots and page HTML (packages/storage, S3 provider).
resource "aws_s3_bucket" "artifacts" {
  #checkov:skip=CKV_AWS_18:Failure artefacts are diagnostics; access is audited by CloudTrail data events.
  #checkov:skip=CKV_AWS_144:Diagnostics that a run reproduces; one region is enough.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of this bucket.
  bucket        = "${local.name}-automation-artifacts-${data.aws_caller_identity.current.account_id}"
  force_destroy = !local.environment.deletion_protection
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket                  = aws_s3_bucket.artifacts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    id     = "expire"
    status = "Enabled"
    filter {}
    expiration {
      days = 30
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}
