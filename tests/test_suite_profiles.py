"""The suite's hypothesis profiles (``tests/profiles.py``): no deadline and a printed blob in every
one, the lane's lighter search only when ``-m`` leaves slow tests out, the full one otherwise."""

from __future__ import annotations

import pytest
from hypothesis import settings

from tests import profiles

CHOICES = [
    ("", {}, "biomatdb"),
    ("", {"CI": "true"}, "ci"),
    ("not slow and not browser", {}, "lane"),
    ("not slow and not browser", {"CI": "true"}, "lane"),
    ("not slow", {}, "lane"),
    ("postgres and not slow", {}, "lane"),
    ("not browser", {}, "biomatdb"),
    ("not postgres", {"CI": "true"}, "ci"),
    ("slow", {}, "biomatdb"),
    ("slow or not slow", {}, "biomatdb"),
    ("not slow", {"HYPOTHESIS_PROFILE": "biomatdb"}, "biomatdb"),
    ("", {"HYPOTHESIS_PROFILE": "lane"}, "lane"),
]


@pytest.mark.parametrize(("markexpr", "environ", "profile"), CHOICES)
def test_the_profile_follows_the_mark_expression(markexpr, environ, profile):
    assert profiles.choose(markexpr, environ) == profile


@pytest.mark.parametrize("profile", ["biomatdb", "ci", "lane"])
def test_every_profile_has_no_deadline_and_prints_the_blob(profile):
    chosen = settings.get_profile(profile)
    assert chosen.deadline is None
    assert chosen.print_blob is True


def test_the_lane_searches_less_and_the_full_run_at_full_depth():
    assert settings.get_profile("lane").max_examples < settings.get_profile("biomatdb").max_examples
    assert settings.get_profile("biomatdb").max_examples == settings.get_profile("ci").max_examples == 100


def test_examples_a_test_sets_itself_are_cut_only_in_the_lane():
    try:
        settings.load_profile("biomatdb")
        assert profiles.examples(400) == 400
        settings.load_profile("lane")
        assert profiles.examples(400) == 40
        assert profiles.examples(25) == profiles.LANE_MIN_EXAMPLES
    finally:
        settings.load_profile(profiles.loaded)


def test_this_run_loaded_the_profile_its_mark_expression_asks_for(request):
    assert profiles.loaded == profiles.choose(request.config.option.markexpr or "")
    assert settings().max_examples == settings.get_profile(profiles.loaded).max_examples
