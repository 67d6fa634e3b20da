output "load_balancer_dns_name" {
  description = "Point *.<domain_name> (CNAME or alias) here."
  value       = aws_lb.main.dns_name
}

output "service_urls" {
  description = "Each service's public URL."
  value       = { for name in keys(local.services) : name => "https://${name}.${var.domain_name}" }
}

output "database_endpoint" {
  description = "RDS PostgreSQL endpoint (host:port) for the DATABASE_URL secret."
  value       = aws_db_instance.postgres.endpoint
}

output "database_master_secret_arn" {
  description = "The RDS-managed (and rotated) master password's secret."
  value       = aws_db_instance.postgres.master_user_secret[0].secret_arn
}

output "secret_arns" {
  description = "The Secrets Manager entry of each secret; put their values before the first deploy."
  value       = { for name, s in aws_secretsmanager_secret.suite : name => s.arn }
}

output "migrations_task_definition" {
  description = "Run once per deploy, before the services: aws ecs run-task --task-definition <this> ..."
  value       = aws_ecs_task_definition.process["migrations"].arn
}
