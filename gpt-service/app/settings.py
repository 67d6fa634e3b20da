"""gpt-service settings: servicekit's base plus the service's own (environment or *_FILE)."""

from pydantic import SecretStr

from servicekit import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "gpt-service"
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
