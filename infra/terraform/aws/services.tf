# The suite's processes on ECS: the six services behind the load balancer, and the processes that run
# from their images. Secrets are Secrets Manager entries (secrets.tf), injected as environment variables
# of the same names that compose and Kubernetes give as NAME_FILE (servicekit reads either). The ports are
# the service catalogue's (catalogue.tf, generated).
locals {
  common_environment = {
    LOG_LEVEL         = "INFO"
    JWT_ISSUER        = "fleet-api"
    JWT_AUDIENCE      = "trucking-suite"
    WEB_CONCURRENCY   = "2"
    GUNICORN_THREADS  = "4"
    PUBSUB_PROJECT_ID = var.pubsub_project_id
  }

  services = {
    dispatch-service = {
      port    = local.service_ports["dispatch-service"]
      cpu     = 512
      memory  = 1024
      secrets = ["jwt_secret", "auth_redis_url"]
      environment = {
        AWS_REGION        = var.aws_region
        ASSIGNMENTS_TABLE = "DeliveryAssignments"
        LOGS_BUCKET       = "dispatch-operational-logs-${terraform.workspace}"
      }
    }
    fleet-api = {
      port        = local.service_ports["fleet-api"]
      cpu         = 256
      memory      = 512
      secrets     = ["jwt_secret", "auth_redis_url", "database_url", "demo_user_password", "redis_url", "gcp_service_account_json"]
      environment = { JOBS_PROVIDER = "pubsub" }
    }
    gpt-service = {
      port        = local.service_ports["gpt-service"]
      cpu         = 256
      memory      = 512
      secrets     = ["jwt_secret", "auth_redis_url", "openai_api_key", "redis_url"]
      environment = { OPENAI_MODEL = "gpt-4o-mini" }
    }
    automation-service = {
      port    = local.service_ports["automation-service"]
      cpu     = 1024
      memory  = 2048
      secrets = ["jwt_secret", "auth_redis_url", "database_url"]
      environment = {
        GPT_SERVICE_URL    = "http://gpt-service.${local.name}.local:${local.service_ports["gpt-service"]}"
        STORAGE_PROVIDER   = "s3"
        STORAGE_BUCKET     = aws_s3_bucket.artifacts.bucket
        AWS_DEFAULT_REGION = var.aws_region
      }
    }
    bakery-service = {
      port    = local.service_ports["bakery-service"]
      cpu     = 256
      memory  = 512
      secrets = ["jwt_secret", "auth_redis_url", "database_url", "smtp_password", "jira_api_token", "jira_webhook_secret", "slack_bot_token", "github_token", "google_service_account_json"]
      environment = {
        PUBLIC_BASE_URL = "https://bakery-service.${var.domain_name}"
        SMTP_STARTTLS   = "true"
      }
    }
    audit-worker = {
      port        = local.service_ports["audit-worker"]
      cpu         = 256
      memory      = 512
      secrets     = ["jwt_secret", "auth_redis_url", "mongo_url", "gcp_service_account_json"]
      environment = { AUDIT_STORE = "mongo", AUDIT_CONSUMER = "off", JOBS_PROVIDER = "pubsub" }
    }
  }

  # Long-running processes without a load balancer; image_of names the service image they run from.
  workers = {
    fleet-relay = {
      image_of    = "fleet-api"
      command     = ["python", "-m", "fleet_api.relay"]
      secrets     = ["jwt_secret", "database_url", "gcp_service_account_json"]
      environment = { JOBS_PROVIDER = "pubsub" }
    }
    audit-consumer = {
      image_of    = "audit-worker"
      command     = ["python", "-m", "audit_worker.consumer"]
      secrets     = ["jwt_secret", "mongo_url", "gcp_service_account_json"]
      environment = { AUDIT_STORE = "mongo", JOBS_PROVIDER = "pubsub", JOBS_WORKER_PORT = tostring(local.worker_health_ports["audit-consumer"]) }
    }
  }

  # Every secret any process reads; values are set out of band (see README.md, "Secrets").
  secret_names = toset(distinct(flatten(concat(
    [for s in local.services : s.secrets],
    [for w in local.workers : w.secrets],
  ))))
}
