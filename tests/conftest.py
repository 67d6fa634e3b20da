import sys
from pathlib import Path

import pytest

# Helpers next to this file have names of their own, so they cannot clash with other test folders.
sys.path.insert(0, str(Path(__file__).parent))

from stack_harness import model_answer, running_local_stack, secrets_found_in_logs  # noqa: E402

# The tests that need the local stack before anything else happened on it come first in a session.
FIRST_ON_THE_STACK = ("test_observability_live.py", "test_local_stack.py")


@pytest.fixture(scope="session")
def local_stack():
    """One local stack for every test of the session that needs it (the stack's own tests, the live
    dashboards, tests/e2e with its kill tests), with an OpenAI-compatible fake as gpt-service's model so that
    its model metrics and summaries are real. On the way out: no secret in any log, then `make down` leaves
    no process and no port behind."""
    from testkit.fake_openai import FakeOpenAI

    def no_secret_in_the_logs(state_dir: Path) -> None:
        leaks = secrets_found_in_logs(state_dir)
        assert not leaks, leaks

    with FakeOpenAI(model_answer) as model:
        env = {"OPENAI_API_KEY": "sk-local-fake", "OPENAI_BASE_URL": model.base_url}
        # A loaded 2-core machine has taken over 2 minutes to boot the six services' workers.
        with running_local_stack(
            "suite-stack-", up_timeout=240, before_down=no_secret_in_the_logs, env=env, model=model
        ) as stack:
            yield stack


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def order(item: pytest.Item) -> int:
        name = item.path.name
        return FIRST_ON_THE_STACK.index(name) if name in FIRST_ON_THE_STACK else len(FIRST_ON_THE_STACK)

    items.sort(key=order)  # stable: every other test keeps its place
