"""What identifies an answer in the cache: the loads (in any order), the model and the prompt."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from pydantic import TypeAdapter

from .loads import Load
from .prompt import PROMPT_VERSION

_LOADS = TypeAdapter(list[Load])


def payload_key(loads: Sequence[Load], model: str, budget: int) -> str:
    """The same loads in any order, with the same model and prompt, give the same key."""
    digest = hashlib.sha256(json.dumps([PROMPT_VERSION, model, budget]).encode("utf-8"))
    digest.update(_LOADS.dump_json(sorted(loads, key=lambda load: load.key)))
    return digest.hexdigest()
