"""How an outside integration reports failure to the outbox that drives it."""


class IntegrationError(Exception):
    """The action failed. ``retryable`` says whether trying again later can succeed (a 5xx, a timeout,
    a 429) or not (a 4xx that the same request will always get)."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class NotConfigured(IntegrationError):
    """The integration has no credentials: the action stays pending until they exist."""

    def __init__(self, integration: str) -> None:
        super().__init__(f"{integration} is not configured", retryable=True)
        self.integration = integration
