locals {
  # LocalStack (or moto) answers at one endpoint and has no account or instance metadata to look up.
  emulated = var.aws_endpoint_url != null
}

provider "aws" {
  region                      = var.aws_region
  skip_credentials_validation = local.emulated
  skip_requesting_account_id  = local.emulated
  skip_metadata_api_check     = local.emulated
  s3_use_path_style           = local.emulated

  endpoints {
    dynamodb = var.aws_endpoint_url
    s3       = var.aws_endpoint_url
    sts      = var.aws_endpoint_url
  }

  default_tags {
    tags = {
      project     = "trucking-suite"
      environment = terraform.workspace
      managed-by  = "terraform"
    }
  }
}
