terraform {
  required_version = ">= 1.6.0"

  # Exact releases, matching .terraform.lock.hcl (committed); the same AWS provider as infra/terraform.
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "6.12.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "3.6.3"
    }
  }

  # State holds the Redis auth token: keep it in an encrypted, versioned bucket with locking, per workspace.
  # terraform init -backend-config="bucket=<state bucket>" -backend-config="region=<region>"
  backend "s3" {
    key          = "trucking-suite/aws.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
