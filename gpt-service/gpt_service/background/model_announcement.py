"""The start-up report of the model's state (usecases/report_model_state.py), made once the process serves."""

from __future__ import annotations

from ..usecases.report_model_state import report_model_state


class ModelAnnouncement:
    def __init__(self, model: str | None) -> None:
        self.model = model

    def start(self) -> None:
        report_model_state(self.model)

    def close(self) -> None:
        """Nothing runs: the report was made at start."""
