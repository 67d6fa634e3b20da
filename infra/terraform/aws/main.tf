# The suite on AWS: ECS on Fargate for the six services (and the relay, the audit consumer, the migrations
# task and the bakery's daily batch), behind one application load balancer, with RDS PostgreSQL, ElastiCache
# Redis, Secrets Manager and CloudWatch logs, all in private subnets. What differs between the workspaces:
#   terraform workspace select -or-create dev
locals {
  environments = {
    dev = {
      az_count            = 2
      nat_gateways        = 1
      deletion_protection = false
      log_retention_days  = 30
      db_instance_class   = "db.t4g.small"
      db_multi_az         = false
      db_storage_gb       = 20
      redis_node_type     = "cache.t4g.micro"
      redis_replicas      = 1
      desired_count       = 1
    }
    test = {
      az_count            = 2
      nat_gateways        = 1
      deletion_protection = false
      log_retention_days  = 14
      db_instance_class   = "db.t4g.small"
      db_multi_az         = false
      db_storage_gb       = 20
      redis_node_type     = "cache.t4g.micro"
      redis_replicas      = 1
      desired_count       = 1
    }
    prod = {
      az_count            = 3
      nat_gateways        = 3
      deletion_protection = true
      log_retention_days  = 400
      db_instance_class   = "db.m7g.large"
      db_multi_az         = true
      db_storage_gb       = 100
      redis_node_type     = "cache.m7g.large"
      redis_replicas      = 2
      desired_count       = 2
    }
  }
  environment = lookup(local.environments, terraform.workspace, null)
  name        = "trucking-suite-${terraform.workspace}"
  azs         = slice(data.aws_availability_zones.available.names, 0, local.environment.az_count)
}

# Fails the plan in the `default` workspace (or any other), where nothing would say which settings apply.
resource "terraform_data" "workspace_guard" {
  input = terraform.workspace

  lifecycle {
    precondition {
      condition     = local.environment != null
      error_message = "Workspace \"${terraform.workspace}\" is not one of dev, test, prod: run `terraform workspace select -or-create dev`."
    }
  }
}
