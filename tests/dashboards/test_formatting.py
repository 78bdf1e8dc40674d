"""Money and percentages formatted for the active language."""

from decimal import Decimal

from django.utils import translation

from dashboards import formatting


def test_money_in_english_and_russian() -> None:
    with translation.override("en"):
        assert formatting.money(Decimal("1234567.891")) == "1,234,567.89\u00a0₽"
        assert formatting.money(Decimal("1234567.5"), decimals=0) == "1,234,568\u00a0₽"
    with translation.override("ru"):
        assert formatting.money(Decimal("1234567.891")) == "1\u00a0234\u00a0567,89\u00a0₽"


def test_rounding_is_half_up_and_undefined_is_a_dash() -> None:
    with translation.override("en"):
        assert formatting.money(Decimal("0.005")) == "0.01\u00a0₽"
        assert formatting.percent(Decimal("-100")) == "-100.00\u00a0%"
        assert formatting.money(None) == "—"
        assert formatting.percent(None) == "—"


def test_change_against_the_previous_period() -> None:
    with translation.override("en"):
        assert formatting.change(Decimal("6500"), Decimal("700")) == ("+828.6\u00a0%", "up")
        assert formatting.change(1, 2) == ("-50.0\u00a0%", "down")
        assert formatting.change(3, 0) == ("new", "up")
        assert formatting.change(0, 0) == ("no change", "flat")
        assert formatting.points_change(Decimal("50.00"), None) == ("—", "")
        assert formatting.points_change(Decimal("333.33"), Decimal("-30.00")) == ("+363.3 pp", "up")
