from __future__ import annotations

import pytest
from gpt_service.domain.answers import ModelAnswer, ModelNote
from gpt_service.domain.facts import compute_facts
from gpt_service.domain.loads import SummarizeRequest
from gpt_service.domain.summary import (
    UnusableAnswer,
    fallback_response,
    model_response,
)


@pytest.fixture()
def parsed(loads):
    items = SummarizeRequest.model_validate(loads).loads
    return items, compute_facts(items)


def answer(notes, summary="Rates are firm.", insights=("One.",)):
    return ModelAnswer(summary=summary, insights=list(insights), price_trends=[], route_suggestions=[], notes=notes)


def test_the_fallback_is_deterministic_and_complete(parsed):
    items, facts = parsed
    first = fallback_response(items, facts, "timeout")
    again = fallback_response(list(items), compute_facts(items), "timeout")
    assert first == again
    assert first.degraded and first.reason == "timeout" and first.model == "deterministic"
    assert len(first.notes) == len(items)
    assert any("Busiest lane" in text for text in first.insights)


def test_the_fallback_of_loads_without_prices_still_says_something():
    raw = [{"portal": "p", "load_id": str(i), "origin": "A, TX", "destination": "B, OK"} for i in range(3)]
    items = SummarizeRequest.model_validate(raw).loads
    response = fallback_response(items, compute_facts(items), "no_api_key")
    assert "None has a comparable posted price." in response.summary
    assert response.price_trends[0].direction == "unknown"
    assert response.route_suggestions[0].lane == "A, TX -> B, OK"
    assert response.insights


def test_model_notes_replace_computed_ones_and_invented_loads_are_dropped(parsed):
    items, facts = parsed
    first, second = items[0], items[1]
    notes = [
        ModelNote(portal=first.portal, load_id=first.load_id, score=0.7, note="good"),
        ModelNote(portal="JB Hunt", load_id=second.load_id, score=0.1, note="portal misspelt"),
        ModelNote(portal="jbhunt", load_id="NOPE", score=1, note="invented"),
    ]
    response = model_response(items, facts, answer(notes), "m")
    by_id = {note.load_id: note for note in response.notes}
    assert by_id[first.load_id].note == "good" and by_id[first.load_id].position == 1
    assert by_id[second.load_id].note == "portal misspelt" and by_id[second.load_id].portal == second.portal
    assert "NOPE" not in by_id and len(response.notes) == len(items)
    assert not response.degraded and response.model == "m"


def test_an_empty_model_answer_is_unusable(parsed):
    items, facts = parsed
    with pytest.raises(UnusableAnswer):
        model_response(items, facts, answer([], summary="  "), "m")
    with pytest.raises(UnusableAnswer):
        model_response(items, facts, answer([], insights=[" "]), "m")


def test_loads_without_portal_or_id_are_noted_by_their_position():
    items = SummarizeRequest.model_validate(
        [
            {"origin": "Dallas, TX", "destination": "Austin, TX", "price": 900, "miles": 200},
            {"portal": "landstar", "origin": "Austin, TX", "destination": "Houston, TX", "price": 700},
            {"load_id": "X1", "origin": "Houston, TX", "destination": "Dallas, TX"},
        ]
    ).loads
    facts = compute_facts(items)
    notes = [ModelNote(portal="-", load_id="#2", score=0.9, note="the model names it by position")]
    for response in (fallback_response(items, facts, "no_api_key"), model_response(items, facts, answer(notes), "m")):
        assert [(n.portal, n.load_id, n.position) for n in response.notes] == [
            (None, None, 1),
            ("landstar", None, 2),
            (None, "X1", 3),
        ]
    assert model_response(items, facts, answer(notes), "m").notes[1].note == "the model names it by position"
