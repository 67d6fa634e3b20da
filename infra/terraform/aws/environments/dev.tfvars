# terraform workspace select -or-create dev && terraform apply -var-file=environments/dev.tfvars
aws_region      = "us-east-1"
domain_name     = "dev.suite.example.com"
certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
image_registry  = "ghcr.io/example/trucking-suite"
image_tag       = "sha-0000000000000000000000000000000000000000"
