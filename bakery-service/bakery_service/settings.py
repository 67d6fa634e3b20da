"""bakery-service settings: servicekit's base plus the service's own (environment or *_FILE)."""

from servicekit import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "bakery-service"
    database_url: str
