"""Cake ids, customer e-mail addresses and Drive document names come from one snake_case rule."""

import pytest
from bakery_service.domain.naming import customer_email, ingredient_key, snake_case


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Chocolate Cake", "chocolate_cake"),
        ("Crème Brûlée", "creme_brulee"),
        ("  Lemon   Tart!! ", "lemon_tart"),
        ("carrot_cake", "carrot_cake"),
        ("Mr. Cakelover", "mr_cakelover"),
        ("Ünïcödé-Torte 2000", "unicode_torte_2000"),
        ("Œufs à la neige", "oeufs_a_la_neige"),
        ("蛋糕", ""),
    ],
)
def test_snake_case(name: str, expected: str) -> None:
    assert snake_case(name) == expected


def test_customer_email_is_the_snake_case_name_at_gmail() -> None:
    assert customer_email("Mr Cakelover") == "mr_cakelover@gmail.com"
    assert customer_email("Mr. Cakelover") == "mr_cakelover@gmail.com"


def test_ingredient_names_match_whatever_their_case_or_spacing() -> None:
    assert ingredient_key("  Dark   Chocolate ") == "dark chocolate"
