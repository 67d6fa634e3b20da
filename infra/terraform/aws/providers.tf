provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      project     = "trucking-suite"
      environment = terraform.workspace
      managed-by  = "terraform"
    }
  }
}

data "aws_caller_identity" "current" {}

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:main.tf takes the first az_count zones by name; a zone AWS adds later sorts after them and is not taken.
  state = "available"
}
