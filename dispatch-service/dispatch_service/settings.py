"""dispatch-service settings: servicekit's base plus the service's own (environment or *_FILE)."""

from servicekit import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "dispatch-service"
    aws_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    assignments_table: str = "DeliveryAssignments"
    logs_bucket: str = "dispatch-operational-logs"
