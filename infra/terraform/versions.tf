terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # State stays local: the compose one-shot keeps it in a volume. A shared backend (S3 + lock table)
  # is set per deployment with `terraform init -backend-config=...`, never in this file.
  backend "local" {}
}
