"""/assign, /update and /assignments on moto's real DynamoDB and S3 server."""

from __future__ import annotations

import json

import boto3
import pytest
from dispatch_support import DAY, package

pytestmark = pytest.mark.integration


def small_day() -> dict:
    return {
        "drivers": [
            {"driver_id": "driver_1", "rules": {"hazmat_classes": ["3"]}},
            {"driver_id": "driver_2", "rules": {"hazmat_classes": []}},
            {"driver_id": "driver_3", "rules": {"regions": ["south"]}},
        ],
        "packages": [
            package("p1", hazmat_class="3"),
            package("p2"),
            package("p3", hazmat_class="3"),
            package("p4"),
        ],
    }


def table_items(settings) -> list[dict]:
    dynamodb = boto3.resource("dynamodb", endpoint_url=settings.aws_endpoint_url)
    if settings.assignments_table not in dynamodb.meta.client.list_tables()["TableNames"]:
        return []  # never created: nothing was ever written
    return dynamodb.Table(settings.assignments_table).scan(ConsistentRead=True)["Items"]


def log_records(settings, prefix: str) -> list[dict]:
    s3 = boto3.client("s3", endpoint_url=settings.aws_endpoint_url)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=settings.logs_bucket, Prefix=prefix).get("Contents", [])]
    records = []
    for key in keys:
        body = s3.get_object(Bucket=settings.logs_bucket, Key=key)["Body"].read().decode()
        records += [json.loads(line) for line in body.splitlines()]
    return records


def test_assign_answers_the_briefs_shape_and_writes_items_and_logs(client, headers, upload, settings):
    upload(small_day())
    response = client.post(
        "/assign",
        json={"driver_ids": ["driver_1", "driver_2", "driver_3"], "max_per_driver": 2, "date": str(DAY)},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert list(body) == ["assignments", "unassigned_packages", "unassigned_drivers"]
    # First-fit would give driver_1 p1 and p2 and strand p3; the maximum places all four.
    assert body["assignments"] == {"driver_1": ["p1", "p3"], "driver_2": ["p2", "p4"], "driver_3": []}
    assert body["unassigned_packages"] == []
    assert body["unassigned_drivers"] == ["driver_3"]

    assignments = {(i["driver_id"], i["package_id"]): i for i in table_items(settings) if "assignment_date" in i}
    assert set(assignments) == {("driver_1", "p1"), ("driver_1", "p3"), ("driver_2", "p2"), ("driver_2", "p4")}
    item = assignments[("driver_1", "p3")]
    assert item["status"] == "assigned" and item["assignment_date"] == str(DAY)
    assert item["destination"] == "p3 Main St" and float(item["weight"]) == 10.0 and float(item["volume"]) == 20.0
    assert item["assigned_at"].endswith("Z")

    records = log_records(settings, f"logs/day={DAY}/assign/")
    assert sorted((r["driver_id"], r["package_id"]) for r in records) == sorted(assignments)
    assert all(r["event"] == "assigned" for r in records)


def test_the_same_request_again_assigns_nothing_more(client, headers, upload, settings):
    upload(small_day())
    request = {"driver_ids": ["driver_1"], "max_per_driver": 1, "date": str(DAY)}
    first = client.post("/assign", json=request, headers=headers).get_json()
    again = client.post("/assign", json=request, headers=headers).get_json()
    assert first == again and first["assignments"] == {"driver_1": ["p1"]}
    assert len([i for i in table_items(settings) if "assignment_date" in i]) == 1
    # A new run (another key) gets the next package: packages assigned earlier that day are not given again.
    later = client.post("/assign", json=request, headers={**headers, "Idempotency-Key": "second-round"}).get_json()
    assert later["assignments"] == {"driver_1": ["p2"]}


def test_unknown_drivers_missing_day_and_bad_bodies_write_nothing(client, headers, upload, settings):
    missing = client.post("/assign", json={"driver_ids": ["driver_1"], "max_per_driver": 1}, headers=headers)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    upload(small_day())
    unknown = client.post(
        "/assign", json={"driver_ids": ["driver_1", "ghost"], "max_per_driver": 1, "date": str(DAY)}, headers=headers
    )
    assert unknown.status_code == 422 and "ghost" in unknown.get_json()["detail"]
    for bad in (
        {"driver_ids": ["driver_1"], "max_per_driver": 0},
        {"driver_ids": ["driver_1"], "max_per_driver": 1.5},
        {"driver_ids": [], "max_per_driver": 1},
        {"driver_ids": ["driver_1"]},
    ):
        answer = client.post("/assign", json={**bad, "date": str(DAY)}, headers=headers)
        assert answer.status_code == 422 and answer.mimetype == "application/problem+json", bad
    assert table_items(settings) == []


def test_update_follows_the_state_machine(client, headers, upload, settings):
    upload(small_day())
    client.post("/assign", json={"driver_ids": ["driver_2"], "max_per_driver": 1, "date": str(DAY)}, headers=headers)

    def update(status, driver="driver_2", package_id="p2"):
        return client.post(
            "/update", json={"driver_id": driver, "package_id": package_id, "status": status}, headers=headers
        )

    accepted = update("accepted")
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    assert accepted.get_json()["destination"] == "p2 Main St"
    assert update("in_progress").status_code == 200
    assert update("in_progress").status_code == 200  # a repeated update changes nothing and succeeds
    assert update("delivered").status_code == 200
    refused = update("assigned")
    assert refused.status_code == 409 and refused.get_json()["current_status"] == "delivered"
    assert update("lost").status_code == 422
    records = log_records(settings, f"logs/day={DAY}/update/")
    assert [r["status"] for r in sorted(records, key=lambda r: r["at"])][-1] == "delivered"


def test_update_of_a_missing_pair_is_404_and_creates_nothing(client, headers, upload, settings):
    upload(small_day())
    client.post("/assign", json={"driver_ids": ["driver_2"], "max_per_driver": 1, "date": str(DAY)}, headers=headers)
    before = table_items(settings)
    for driver, package_id in (("driver_1", "p2"), ("driver_2", "nope")):
        response = client.post(
            "/update", json={"driver_id": driver, "package_id": package_id, "status": "accepted"}, headers=headers
        )
        assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert table_items(settings) == before


def test_assignments_are_read_back_by_driver_day_and_status_in_pages(client, headers, upload):
    upload(small_day())
    client.post(
        "/assign", json={"driver_ids": ["driver_1", "driver_2"], "max_per_driver": 2, "date": str(DAY)}, headers=headers
    )
    client.post("/update", json={"driver_id": "driver_2", "package_id": "p4", "status": "accepted"}, headers=headers)

    def collect(**query) -> list[tuple[str, str]]:
        found, cursor = [], None
        while True:
            params = {**query, "limit": 1, **({"cursor": cursor} if cursor else {})}
            page = client.get("/assignments", query_string=params, headers=headers)
            assert page.status_code == 200, page.get_json()
            body = page.get_json()
            found += [(i["driver_id"], i["package_id"]) for i in body["items"]]
            cursor = body["next_cursor"]
            if not cursor:
                return sorted(found)

    everything = [("driver_1", "p1"), ("driver_1", "p3"), ("driver_2", "p2"), ("driver_2", "p4")]
    assert collect() == everything
    assert collect(date=str(DAY)) == everything
    assert collect(driver_id="driver_2") == [("driver_2", "p2"), ("driver_2", "p4")]
    assert collect(date=str(DAY), status="accepted") == [("driver_2", "p4")]
    assert collect(driver_id="driver_1", status="accepted") == []
    assert collect(date="2026-12-01") == []
    bad = client.get("/assignments", query_string={"cursor": "bm90LWEtY3Vyc29y"}, headers=headers)
    assert bad.status_code == 404 and bad.get_json()["errors"][0]["loc"] == "query.cursor"


def test_manifest_round_trip_validation_and_a_large_upload(client, headers, upload, settings):
    day = small_day()
    upload(day)
    stored = client.get(f"/days/{DAY}/manifest", headers=headers)
    assert stored.status_code == 200
    assert [p["package_id"] for p in stored.get_json()["packages"]] == ["p1", "p2", "p3", "p4"]
    assert client.get("/days/2026-01-01/manifest", headers=headers).status_code == 404
    refused_day = client.get("/days/yesterday/manifest", headers=headers)
    assert refused_day.status_code == 422 and refused_day.mimetype == "application/problem+json"
    assert "YYYY-MM-DD" in refused_day.get_json()["detail"]
    assert client.get("/days/2026-02-30/manifest", headers=headers).status_code == 422

    bad = {"drivers": [{"driver_id": "d1", "rules": {"max_weight": -1}}], "packages": [package("x", weight="heavy")]}
    refused = client.post("/days/2026-12-02/manifest", json=bad, headers=headers)
    assert refused.status_code == 422
    locations = {e["loc"] for e in refused.get_json()["errors"]}
    assert {"body.drivers.0.rules.max_weight", "body.packages.0.weight"} <= locations
    assert client.get("/days/2026-12-02/manifest", headers=headers).status_code == 404  # nothing stored

    large = {"drivers": [{"driver_id": "d1"}], "packages": [package(f"pkg-{i:06d}") for i in range(60_000)]}
    body = json.dumps(large)
    assert len(body) > 10 * 1024 * 1024
    answer = client.post(
        "/days/2026-12-03/manifest", data=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["packages"] == 60_000
    # Other routes keep the 1 MiB limit.
    huge = client.post("/assign", data=body, headers={**headers, "Content-Type": "application/json"})
    assert huge.status_code == 413


def test_generate_day_command_stores_the_lists_or_writes_a_file(app, client, headers, tmp_path):
    runner = app.test_cli_runner()
    args = ["dispatch", "generate-day", "--date", "2026-12-05", "--drivers", "4", "--packages", "30", "--seed", "2"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "stored at manifests/2026-12-05.json" in result.output
    stored = client.get("/days/2026-12-05/manifest", headers=headers).get_json()
    assert len(stored["drivers"]) == 4 and len(stored["packages"]) == 30

    target = tmp_path / "day.json"
    assert runner.invoke(args=[*args, "--output", str(target)]).exit_code == 0
    assert json.loads(target.read_text()) == stored
    assert runner.invoke(args=["dispatch", "generate-day", "--drivers", "0"]).exit_code != 0


def test_lists_with_a_repeated_id_are_a_conflict_and_nothing_is_stored(client, headers) -> None:
    day = small_day()
    day["packages"].append(dict(day["packages"][0]))
    day["drivers"].append({"driver_id": "driver_1"})
    refused = client.post("/days/2026-12-05/manifest", json=day, headers=headers)
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert {e["loc"] for e in refused.get_json()["errors"]} == {"body.drivers.driver_id", "body.packages.package_id"}
    assert client.get("/days/2026-12-05/manifest", headers=headers).status_code == 404
    twice = {"driver_ids": ["driver_1", "driver_1"], "max_per_driver": 1, "date": "2026-12-05"}
    assert client.post("/assign", json=twice, headers=headers).status_code == 422


def test_amounts_and_flags_are_json_numbers_and_booleans_only(client, headers) -> None:
    for field, value in (("weight", "12.5"), ("distance", True), ("perishable", 0)):
        day = small_day()
        day["packages"][0][field] = value
        refused = client.post("/days/2026-12-06/manifest", json=day, headers=headers)
        assert refused.status_code == 422, (field, value)
        assert any(e["loc"].endswith(field) for e in refused.get_json()["errors"]), (field, value)


def test_a_day_is_written_yyyy_mm_dd_in_queries_and_bodies(client, headers) -> None:
    assert client.get("/assignments", query_string={"date": "0"}, headers=headers).status_code == 422
    late = {"driver_ids": ["driver_1"], "max_per_driver": 1, "date": 0}
    assert client.post("/assign", json=late, headers=headers).status_code == 422
