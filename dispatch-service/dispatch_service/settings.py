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
    aws_write_concurrency: int = Field(16, ge=1, le=64, description="Parallel writers of /assign (claims, batches).")
    aws_connect_timeout_seconds: float = 2.0
    aws_read_timeout_seconds: float = 10.0
    abandoned_run_seconds: int = Field(
        600, ge=0, description="After this long without its retry, another /assign completes a cut-short run."
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
