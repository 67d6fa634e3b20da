"""dispatch-service settings: servicekit's base plus the service's own (environment or *_FILE)."""

from pydantic import Field
from servicekit import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "dispatch-service"
    aws_endpoint_url: str | None = Field(None, description="LocalStack or moto; unset means AWS.")
    aws_region: str = "us-east-1"
    assignments_table: str = "DeliveryAssignments"
    logs_bucket: str = "dispatch-operational-logs"
    aws_max_attempts: int = Field(4, ge=1, le=10, description="botocore standard-mode attempts per call.")
    aws_write_concurrency: int = Field(
        16, ge=1, le=64, description="Transactions one /assign keeps in flight (its fence lanes, at most 16)."
    )
    aws_connect_timeout_seconds: float = 2.0
    aws_read_timeout_seconds: float = 10.0
    lease_seconds: float = Field(
        15, gt=0, le=600, description="A day's lease lasts this long unless renewed (every third of it)."
    )
    assign_wait_seconds: float = Field(
        20, ge=0, le=300, description="How long /assign waits for a day's lease held by another run before 409."
    )
    assign_memory_budget_bytes: int = Field(
        1024**3, ge=2**20, description="Largest eligibility structure one /assign may build; beyond, 422."
    )
    # Create the table and the bucket when missing. Default: only against an emulator (AWS_ENDPOINT_URL set);
    # on AWS, Terraform owns them.
    provision_aws_resources: bool | None = None
    manifest_max_bytes: int = Field(64 * 1024 * 1024, ge=10 * 1024 * 1024, description="Largest manifest upload.")

    @property
    def provisions_aws(self) -> bool:
        if self.provision_aws_resources is None:
            return self.aws_endpoint_url is not None
        return self.provision_aws_resources
