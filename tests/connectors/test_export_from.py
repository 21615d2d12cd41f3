"""The activation start date's check (admin activation page and API): at most a year ahead."""

from datetime import date

import time_machine

from connectors.setup_steps import export_from_problem


@time_machine.travel("2028-02-29 12:00:00+00:00", tick=False)
def test_a_leap_day_does_not_break_the_year_ahead_check():
    # 29 February has no date a year on: the check used date.replace(year=+1) and raised ValueError.
    assert export_from_problem(date(2029, 2, 28)) == ""
    assert export_from_problem(date(2029, 3, 1)) != ""


@time_machine.travel("2026-12-06 12:00:00+00:00", tick=False)
def test_a_year_ahead_is_the_limit():
    assert export_from_problem(date(2027, 12, 6)) == ""
    assert export_from_problem(date(2027, 12, 7)) != ""
    assert export_from_problem(date(2020, 1, 1)) == ""
