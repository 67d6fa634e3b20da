terraform {
  required_version = ">= 1.6.0"

  # Exact releases, matching .terraform.lock.hcl (committed): every `terraform init`, the compose one-shot's
  # on a fresh volume included, installs this provider and checks it against the lock file's hashes. To move
  # on, change the version here and run `terraform init -upgrade` (the lock file changes with it).
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "6.12.0"
    }
  }

  # State stays local: the compose one-shot keeps it in a volume. A shared backend (S3 + lock table)
  # is set per deployment with `terraform init -backend-config=...`, never in this file.
  backend "local" {}
}
