variable "aws_region" {
  description = "Region of every resource."
  type        = string
  default     = "us-east-1"
}

variable "domain_name" {
  description = "The suite's public domain: each service answers at <service>.<domain_name> (e.g. fleet-api.suite.example.com)."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for *.<domain_name>, used by the load balancer's HTTPS listener."
  type        = string
}

variable "image_registry" {
  description = "Where the images are pulled from (CI pushes ghcr.io/<owner>/<repo>/<image>; an ECR mirror works too)."
  type        = string
}

variable "image_tag" {
  description = "The tag every image is deployed at: the commit's sha-<full sha> tag that CI pushes."
  type        = string
}

variable "vpc_cidr" {
  description = "Address range of the VPC; /16 leaves room for four /20 subnets per tier."
  type        = string
  default     = "10.40.0.0/16"
}

variable "pubsub_project_id" {
  description = "Google Cloud project of the event bus (Pub/Sub stays on Google Cloud; see README.md)."
  type        = string
  default     = "trucking-suite"
}

variable "alarm_email" {
  description = "Address subscribed to the CloudWatch alarms' SNS topic (alarms.tf; AWS asks it to confirm); null leaves the topic without an e-mail subscriber."
  type        = string
  default     = null
}
