"""automation-service's domain metrics (labels: portal, outcome, target)."""

from servicekit import counter, histogram

RUNS = counter("automation_runs_total", "Extraction runs by outcome", ["outcome"])
PORTAL_RUNS = counter(
    "automation_portal_extractions_total", "Portal extractions by portal and outcome", ["portal", "outcome"]
)
LOADS_EXTRACTED = counter("automation_loads_extracted_total", "Loads extracted (kept after normalising)", ["portal"])
ROWS_SKIPPED = counter("automation_rows_skipped_total", "Portal rows that could not be normalised", ["portal"])
EXTRACTION_SECONDS = histogram(
    "automation_extraction_duration_seconds",
    "Wall time of one portal's extraction",
    ["portal", "outcome"],
    buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300),
)
RUN_SECONDS = histogram(
    "automation_run_duration_seconds",
    "Wall time of one extraction run, both portals and the summaries, by outcome",
    ["outcome"],
    buckets=(5, 10, 20, 30, 60, 120, 300, 600),
)
PAGE_SECONDS = histogram(
    "automation_page_load_duration_seconds",
    "Time for one portal page to load (navigation to DOM ready), by portal",
    ["portal"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
RETRIES = counter(
    "automation_retries_total", "Retries by target (login, navigation, gpt-service)", ["portal", "target"]
)
GPT_CALLS = counter("automation_gpt_calls_total", "Calls to gpt-service /summarize-loads by outcome", ["outcome"])
BROWSER_LAUNCHES = counter("automation_browser_launches_total", "Chromium launches by outcome", ["outcome"])
BROWSER_RELAUNCHES = counter(
    "automation_browser_relaunches_total", "Warm browsers found dead or hung and launched again", []
)
BROWSER_FAILURES = counter(
    "automation_browser_failures_total", "Portal failures by portal and kind", ["portal", "outcome"]
)
ARTIFACTS = counter(
    "automation_failure_artifacts_total", "Failure screenshots/HTML saved, by outcome", ["portal", "outcome"]
)

# Known outcomes start at zero, so dashboards and alerts see 0 rather than no series before the first run.
for _outcome in ("succeeded", "partial", "failed"):
    RUNS.labels(_outcome)
    RUN_SECONDS.labels(_outcome)
RETRIES.labels("", "gpt-service")
