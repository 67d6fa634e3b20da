"""P5: gpt-service's own overhead without the model, and how the prompt grows with the number of loads.

Overhead: POST /summarize-loads with 100 loads and no API key (validation, facts, scores, the fallback
text, JSON out), against a bare endpoint of the same servicekit app that only parses the same body and
returns it, measured side by side in one run. Also the prompt building alone (what is added to a model
call). Prompt size: estimated tokens of the prompt for 25 to 3,200 loads.

    .venv/bin/python bench/gpt_overhead.py [--rounds 300]   # writes bench/results/gpt_overhead.md
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchkit import Figure, record  # bench/ is on the path of a script run from it

os.environ.setdefault("LOG_LEVEL", "WARNING")  # one access line per request would dominate the timings

from flask import request  # noqa: E402
from gpt_service import create_app  # noqa: E402
from gpt_service.domain.facts import compute_facts  # noqa: E402
from gpt_service.domain.loads import Load, SummarizeRequest  # noqa: E402
from gpt_service.domain.prompt import build_prompt  # noqa: E402
from gpt_service.settings import Settings  # noqa: E402
from servicekit import issue_token  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "gpt_overhead.md"
CITIES = [
    "Dallas, TX",
    "Atlanta, GA",
    "Chicago, IL",
    "Memphis, TN",
    "Denver, CO",
    "Phoenix, AZ",
    "Columbus, OH",
    "Charlotte, NC",
    "Laredo, TX",
    "Kansas City, MO",
    "Nashville, TN",
    "Reno, NV",
    "Fresno, CA",
    "Savannah, GA",
    "Joliet, IL",
    "Ontario, CA",
    "Harrisburg, PA",
    "Indianapolis, IN",
]
TARGET_MS = 10.0


def sample_loads(count: int, seed: int = 1) -> list[dict]:
    rnd = random.Random(seed)
    start = datetime(2026, 11, 20, 8, tzinfo=UTC)
    loads = []
    for i in range(count):
        origin, destination = rnd.sample(CITIES, 2)
        miles = None if i % 5 == 0 else rnd.randint(150, 1500)
        loads.append(
            {
                "portal": ("jbhunt", "landstar")[i % 2],
                "load_id": f"L{i}",
                "origin": origin,
                "destination": destination,
                "price": None if i % 11 == 0 else round((miles or 700) * rnd.uniform(1.6, 3.4), 2),
                "posted_at": (start + timedelta(minutes=7 * i)).isoformat(),
                "eta": (start + timedelta(days=2, minutes=7 * i)).isoformat(),
                "equipment": rnd.choice(["Dry Van", "Reefer", "Flatbed"]),
                "weight_lbs": rnd.randint(5000, 44000),
                "miles": miles,
            }
        )
    return loads


def timed(fn, rounds: int) -> list[float]:
    for _ in range(min(20, rounds)):
        fn()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1] if len(samples) > 1 else samples[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_REQUESTS", "300")))
    args = parser.parse_args()

    settings = Settings(
        jwt_secret="bench-secret-0123456789abcdef0123",  # noqa: S106 - a throwaway key
        openai_api_key=None,
        redis_url=None,
        log_level="WARNING",
    )
    app = create_app(settings)

    @app.post("/bench-echo")
    def bench_echo():  # the floor: same app, auth, body parsing, no gpt-service work
        return app.response_class(request.get_data(), mimetype="application/json")

    client = app.test_client()
    headers = {"Authorization": f"Bearer {issue_token(settings, 'bench')[0]}"}
    loads = sample_loads(100)

    def summarize():
        response = client.post("/summarize-loads", json=loads, headers=headers)
        assert response.status_code == 200 and response.get_json()["reason"] == "no_api_key"

    def echo():
        assert client.post("/bench-echo", json=loads, headers=headers).status_code == 200

    parsed = SummarizeRequest.model_validate(loads).loads

    def prompt_only():
        build_prompt(parsed, compute_facts(parsed), settings.prompt_token_budget)

    # Interleave the two endpoints in blocks so that drift on a shared machine hits both alike.
    ours, floor = [], []
    block = max(1, args.rounds // 5)
    for _ in range(5):
        ours += timed(summarize, block)
        floor += timed(echo, block)
    prompt_ms = timed(prompt_only, args.rounds)
    overhead = statistics.median(ours) - statistics.median(floor)

    sizes = []
    for count in (25, 50, 100, 200, 400, 800, 1600, 3200):
        items = [Load.model_validate(item) for item in sample_loads(count, seed=count)]
        prompt = build_prompt(items, compute_facts(items), settings.prompt_token_budget)
        sizes.append((count, prompt.estimated_tokens, len(prompt.user), prompt.listed, prompt.aggregated))
    by_count = {count: tokens for count, tokens, *_ in sizes}
    exponent = math.log(by_count[3200] / by_count[200]) / math.log(3200 / 200)

    lines = [
        "# gpt-service overhead without the model (P5)",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs "
        f"(load average {os.getloadavg()[0]:.1f}), {args.rounds} requests each, "
        "Flask test client in one process, no API key (deterministic answer).",
        "",
        "| what (100 loads) | p50 ms | p95 ms |",
        "| --- | --- | --- |",
        "| POST /summarize-loads (validate, facts, scores, fallback, JSON) | "
        f"{statistics.median(ours):.2f} | {pct(ours, 95):.2f} |",
        f"| bare endpoint of the same app echoing the same body | {statistics.median(floor):.2f} | "
        f"{pct(floor, 95):.2f} |",
        f"| prompt building alone (facts + prompt) | {statistics.median(prompt_ms):.2f} | {pct(prompt_ms, 95):.2f} |",
        "",
        f"Own overhead (p50 difference): **{overhead:.2f} ms** against a target of <= {TARGET_MS:.0f} ms: "
        + ("met." if overhead <= TARGET_MS else f"missed by {overhead - TARGET_MS:.2f} ms."),
        "",
        f"## Prompt size by number of loads (token budget {settings.prompt_token_budget}, ~4 characters per token)",
        "",
        "| loads | est. tokens | characters | listed one by one | aggregated |",
        "| --- | --- | --- | --- | --- |",
        *[
            f"| {count} | {tokens} | {chars} | {listed} | {'yes' if agg else 'no'} |"
            for count, tokens, chars, listed, agg in sizes
        ],
        "",
        f"Growth from 200 to 3,200 loads: tokens x{by_count[3200] / by_count[200]:.2f} for 16x the loads "
        f"(exponent {exponent:.2f}; 1 would be linear): " + ("sublinear." if exponent < 1 else "NOT sublinear."),
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))
    record(
        "gpt_overhead",
        [
            Figure(
                "P5",
                "gpt-service own overhead, 100 loads, no model (p50)",
                round(overhead, 2),
                "ms",
                "bare endpoint of the same app echoing the body, p50 ms",
                round(statistics.median(floor), 2),
                f"<= {TARGET_MS:.0f} ms",
                overhead <= TARGET_MS,
                "" if overhead <= TARGET_MS else f"missed by {overhead - TARGET_MS:.2f} ms",
            ),
            Figure(
                "P5",
                "prompt size growth exponent, 200 -> 3,200 loads",
                round(exponent, 2),
                "(1 = linear)",
                "tokens at 200 loads",
                by_count[200],
                "sublinear (< 1)",
                exponent < 1,
                "" if exponent < 1 else "not sublinear",
            ),
        ],
    )


if __name__ == "__main__":
    main()
