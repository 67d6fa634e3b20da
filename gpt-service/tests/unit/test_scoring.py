from __future__ import annotations

from gpt_service.domain.facts import compute_facts
from gpt_service.domain.loads import Load
from gpt_service.domain.scoring import UNPRICED_SCORE, score_loads


def make(i, price, miles=None, lane=("A, TX", "B, OK"), currency="USD"):
    return Load(
        portal="p", load_id=str(i), origin=lane[0], destination=lane[1], price=price, miles=miles, currency=currency
    )


def scores(loads):
    return {key[1]: value for key, value in score_loads(loads, compute_facts(loads)).items()}


def test_a_better_rate_per_mile_scores_higher_and_scores_stay_in_range():
    result = scores([make(1, 1000, 500), make(2, 2000, 500), make(3, 3000, 500), make(4, 90000, 500)])
    assert result["1"][0] < result["2"][0] < result["3"][0] < result["4"][0] <= 1
    assert result["1"][0] >= 0
    assert "/mi" in result["3"][1] and "above the median" in result["3"][1]


def test_without_miles_a_price_is_judged_against_its_lane():
    result = scores([make(1, 1000), make(2, 1400), make(3, 5000, lane=("C, TX", "D, NM"))])
    assert result["2"][0] > result["1"][0]
    assert "of its lane" in result["2"][1]
    assert "loosely comparable" in result["3"][1]


def test_unpriced_and_foreign_currency_loads_get_fixed_scores():
    result = scores([make(1, None), make(2, 800, 400, currency="CAD"), make(3, 1000, 400), make(4, 1200, 400)])
    assert result["1"] == (UNPRICED_SCORE, "No posted rate: call for the price before planning it.")
    assert result["2"][0] == 0.4 and "CAD" in result["2"][1]
