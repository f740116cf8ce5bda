"""Ranking among the near-identical names of a real catalogue: one item per district and per variant."""

import dataclasses

import pytest

from bot.core.answering.matcher import Matcher

DISTRICTS = ["", "广安经开区", "前锋区", "岳池县"]
VARIANTS = ["变更", "延续", "注销", "补办", "换证", "新办", "迁入", "迁出", "撤销", "年检"]


@pytest.fixture(scope="module")
def catalogue_matcher(real_kb, real_matcher):
    """The shipped base plus a catalogue as a city holds it: each matter once per district and per variant,
    the general item (no district) first, with the aliases an import derives; and names that contain one
    another, listed so that the longer-qualified one comes first (the first listed wins a tie otherwise)."""
    template = next(iter(real_kb.items.values()))
    items: list[tuple[str, list[str]]] = []
    for core in ("燃气经营许可证", "旧货业备案", "律师及律所信息查询"):
        for district in DISTRICTS:
            for variant in VARIANTS:
                where = district or "广安区"
                aliases = [f"{district}{core}{variant}", f"{core}{variant}办理", f"{where}{core}{variant}"]
                items.append((f"{district}{core}（{variant}）", aliases))
    items += [
        ("非正常户解除（县级行使）", []),
        ("非正常户解除（县级）", []),
    ]
    extra = {
        f"cat-{k}": template.model_copy(
            update={"id": f"cat-{k}", "name": name, "aliases": aliases, "keywords": [], "summary": name}
        )
        for k, (name, aliases) in enumerate(items)
    }
    kb = dataclasses.replace(real_kb, items={**real_kb.items, **extra})
    return Matcher(kb, cues=real_matcher.cues)


def best(matcher: Matcher, text: str) -> str:
    u = matcher.understand(text)
    assert u.candidates, text
    return matcher.kb.entry(u.candidates[0].id).name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (
            "广安经区燃气经营许可证（迁入）",
            "广安经开区燃气经营许可证（迁入）",
        ),  # a character of the district missing
        ("广经开区燃气经营许可证迁入", "广安经开区燃气经营许可证（迁入）"),
        ("岳池旧货业beian（撤销）", "岳池县旧货业备案（撤销）"),
        ("前锋律师及律所信息chaxun（换证）", "前锋区律师及律所信息查询（换证）"),
    ],
)
def test_a_district_named_in_the_question_finds_that_districts_item(catalogue_matcher, text, name):
    assert best(catalogue_matcher, text) == name


@pytest.mark.parametrize(
    ("text", "name"),
    [("燃气经营许可证迁入", "燃气经营许可证（迁入）"), ("旧货业备案撤销怎么办", "旧货业备案（撤销）")],
)
def test_without_a_district_the_general_item_stays_first(catalogue_matcher, text, name):
    assert best(catalogue_matcher, text) == name


@pytest.mark.parametrize("text", ["非正常户解除（县级）", "非正常户解除县级", "非正常户jiechu（县级）"])
def test_among_equals_the_name_the_question_says_in_full_wins(catalogue_matcher, text):
    assert best(catalogue_matcher, text) == "非正常户解除（县级）"
