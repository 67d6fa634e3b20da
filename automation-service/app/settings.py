"""automation-service settings: servicekit's base plus the service's own (environment or *_FILE)."""

from servicekit import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "automation-service"
    database_url: str
    gpt_service_url: str = "http://127.0.0.1:8002"
