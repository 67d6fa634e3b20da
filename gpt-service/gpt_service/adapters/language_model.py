"""What the summary asks of a language model: a structured answer, or ``ModelUnavailable`` with the reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..domain.answers import FallbackReason, ModelAnswer


class ModelUnavailable(Exception):
    """No usable answer from the model; ``reason`` says why."""

    def __init__(self, reason: FallbackReason, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: FallbackReason = reason
        self.detail = detail


@dataclass(frozen=True)
class Completion:
    answer: ModelAnswer
    model: str
    prompt_tokens: int
    completion_tokens: int
    attempts: int


class LanguageModel(Protocol):
    model: str

    def complete(self, system: str, user: str) -> Completion: ...
