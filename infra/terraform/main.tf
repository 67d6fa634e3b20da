# What differs between the workspaces dev, test and prod. Select one before planning:
#   terraform workspace select -or-create dev
locals {
  environments = {
    dev = {
      deletion_protection = false
      log_retention_days  = 30
    }
    test = {
      deletion_protection = false
      log_retention_days  = 14
    }
    prod = {
      deletion_protection = true
      log_retention_days  = 400
    }
  }
  environment = lookup(local.environments, terraform.workspace, null)
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
