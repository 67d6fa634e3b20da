"""Plain-text ticket descriptions to Atlassian Document Format."""

from __future__ import annotations

from bakery_service.adapters.jira import ingredients_table, to_adf


def texts(node: dict) -> list[str]:
    if node.get("type") == "text":
        return [node["text"]]
    return [text for child in node.get("content", []) for text in texts(child)]


def test_ingredients_table_is_a_pipe_table_with_a_header() -> None:
    assert ingredients_table([("Chocolate", "268 g"), ("Eggs", "8")]).splitlines() == [
        "| Ingredient | Quantity |",
        "| --- | --- |",
        "| Chocolate | 268 g |",
        "| Eggs | 8 |",
    ]


def test_a_table_at_the_end_and_alignment_rules_are_handled() -> None:
    doc = to_adf("Totals:\n|Name|Amount|\n|:---|---:|\n|Flour|68 g|")
    assert [node["type"] for node in doc["content"]] == ["paragraph", "table"]
    rows = doc["content"][1]["content"]
    assert [texts(row) for row in rows] == [["Name", "Amount"], ["Flour", "68 g"]]
    assert [cell["type"] for cell in rows[0]["content"]] == ["tableHeader", "tableHeader"]
    assert [cell["type"] for cell in rows[1]["content"]] == ["tableCell", "tableCell"]


def test_two_tables_separated_by_text_stay_two_tables_and_blank_lines_are_dropped() -> None:
    doc = to_adf("|a|b|\n\nbetween\n|c|d|\n")
    assert [node["type"] for node in doc["content"]] == ["table", "paragraph", "table"]


def test_urls_become_links_inside_text() -> None:
    [paragraph] = to_adf("See https://bakery.example/orders/21 for details")["content"]
    assert [node["text"] for node in paragraph["content"]] == [
        "See ",
        "https://bakery.example/orders/21",
        " for details",
    ]
    assert paragraph["content"][1]["marks"][0]["attrs"]["href"] == "https://bakery.example/orders/21"
    assert "marks" not in paragraph["content"][0]
