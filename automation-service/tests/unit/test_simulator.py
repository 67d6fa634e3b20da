"""The portal simulator on its own (Flask test client): logins, pages, formats and faults."""

import re

import pytest
from loadboard_sim import create_app
from loadboard_sim.settings import SimSettings


@pytest.fixture()
def sim():
    return create_app(SimSettings(slow_seconds=0.01))


def _jbhunt_session(client):
    response = client.post(
        "/jbhunt/login", data={"username": "dispatch@example.com", "password": "jbhunt-sim-password"}
    )
    assert response.status_code == 302
    return client


def _landstar_session(client):
    response = client.post(
        "/landstar/Account/Login", data={"UserName": "dispatch", "Password": "landstar-sim-password"}
    )
    assert response.status_code == 302
    return client


def test_the_load_lists_need_a_login(sim):
    client = sim.test_client()
    assert client.get("/jbhunt/loadboard/map").headers["Location"].startswith("/jbhunt/login")
    assert client.get("/jbhunt/api/loads").status_code == 401
    assert client.get("/landstar/loadspublic").headers["Location"].startswith("/landstar/Account/Login")


def test_wrong_passwords_are_refused_with_the_portals_message(sim):
    client = sim.test_client()
    jbh = client.post("/jbhunt/login", data={"username": "dispatch@example.com", "password": "nope"})
    assert jbh.status_code == 401 and b"Invalid username or password" in jbh.data
    ls = client.post("/landstar/Account/Login", data={"UserName": "dispatch", "Password": "nope"})
    assert b"field-validation-error" in ls.data


def test_a_session_cookie_of_one_portal_does_not_open_the_other(sim):
    client = _jbhunt_session(sim.test_client())
    assert client.get("/jbhunt/api/loads").status_code == 200
    assert client.get("/landstar/loadspublic").status_code == 302


def test_jbhunt_pages_cover_every_load_out_of_posting_order(sim):
    client = _jbhunt_session(sim.test_client())
    first = client.get("/jbhunt/api/loads?page=1").get_json()
    assert first["totalPages"] == 4 and first["totalCount"] == 48 and len(first["loads"]) == 12
    rows = [load for page in range(1, 5) for load in client.get(f"/jbhunt/api/loads?page={page}").get_json()["loads"]]
    assert len({load["loadNumber"] for load in rows}) == 48
    posted = [load.posted_at for load in sim.config["LOADS"]["jbhunt"]]
    assert posted != sorted(posted, reverse=True)  # the feed is not sorted by posting time
    rates = [load["rate"] for load in rows]
    assert any(re.fullmatch(r"\$\d{1,3}(,\d{3})*\.\d\d", r) for r in rates)
    assert any(re.fullmatch(r"\d+", r) for r in rates)
    assert "Call" in rates and "" in rates
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d [AP]M", first["loads"][0]["postedDate"])


def test_landstar_pages_with_a_next_link_until_the_last(sim):
    client = _landstar_session(sim.test_client())
    html = client.get("/landstar/loadspublic").data.decode()
    assert 'id="tblAvailableLoads"' in html and 'class="pager-next"' in html and "Page 1 of 3" in html
    last = client.get("/landstar/loadspublic?page=3").data.decode()
    assert "pager-next" not in last
    assert re.search(r"<td>\d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d</td>", html)


@pytest.mark.parametrize("how", ["query", "header"])
def test_per_request_faults(sim, how):
    client = _landstar_session(sim.test_client())
    kwargs = {"query_string": {"fault": "500"}} if how == "query" else {"headers": {"X-Sim-Fault": "500"}}
    assert client.get("/landstar/loadspublic", **kwargs).status_code == 500
    layout = client.get("/landstar/loadspublic", query_string={"fault": "layout"}).data
    assert b"tblAvailableLoads" not in layout
    assert client.get("/landstar/loadspublic").status_code == 200


def test_armed_faults_are_used_up_and_configured_ones_stay(sim):
    client = _jbhunt_session(sim.test_client())
    assert (
        client.post("/_sim/faults", json={"portal": "jbhunt", "fault": "500", "stage": "api", "times": 2}).status_code
        == 201
    )
    assert [client.get("/jbhunt/api/loads").status_code for _ in range(3)] == [500, 500, 200]
    assert client.post("/_sim/faults", json={"portal": "x", "fault": "500"}).status_code == 422

    failing = create_app(SimSettings(faults="landstar=login"))
    refused = failing.test_client().post(
        "/landstar/Account/Login", data={"UserName": "dispatch", "Password": "landstar-sim-password"}
    )
    assert b"incorrect" in refused.data
    assert [
        failing.test_client()
        .post("/landstar/Account/Login", data={"UserName": "dispatch", "Password": "landstar-sim-password"})
        .status_code
        for _ in range(2)
    ] == [200, 200]
