"""The 街道/乡镇 boundaries of knowledge/boundaries/*.geojson: the shipped example data, point-in-polygon, and the
loader's checks (a wrong file stops start-up and `python -m bot check` names the file, the unit and the fault)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.core.knowledge import KnowledgeError, load_knowledge
from bot.core.knowledge.boundaries import load_boundaries

ROOT = Path(__file__).resolve().parents[1]


def square(x0: float, y0: float, size: float = 0.01) -> list[list[list[float]]]:
    return [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]]


def feature(name: str, coordinates, *, kind: str | None = "街道", geometry: str = "Polygon", **props):
    return {
        "type": "Feature",
        "properties": {"name": name, **({"type": kind} if kind else {}), **props},
        "geometry": {"type": geometry, "coordinates": coordinates},
    }


def write(root: Path, name: str, features: list, **extra) -> None:
    (root / "boundaries").mkdir(parents=True, exist_ok=True)
    doc = {"type": "FeatureCollection", "features": features, **extra}
    (root / "boundaries" / name).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def test_the_example_boundaries_are_marked_and_map_points_to_units(real_kb):
    b = real_kb.boundaries
    assert b.example_data and [u.name for u in b.units] == ["南湖街道", "东城街道", "西城街道", "青山镇"]
    assert b.unit_at(30.0612, 120.0534) == "南湖街道"
    assert b.unit_at(30.07, 120.10) == "东城街道"
    assert b.unit_at(30.07, 120.01) == "西城街道"
    assert b.unit_at(30.02, 120.06) == "青山镇"
    assert b.unit_at(30.042, 120.06) == "青山镇"  # the town's notch reaches into the middle
    assert b.unit_at(31.2304, 121.4737) is None  # outside the district
    assert b.unit_at(30.04, 120.02) == "西城街道"  # on a shared border: the unit listed first
    data = json.loads((ROOT / "knowledge" / "boundaries" / "示例区.geojson").read_text(encoding="utf-8"))
    assert "示例数据" in data["metadata"]["note"]


def test_a_base_without_boundaries_maps_nothing(mini_kb):
    assert not mini_kb.boundaries and mini_kb.boundaries.unit_at(30.06, 120.05) is None


def test_a_multipolygon_unit_and_a_department_of_the_base(tmp_path):
    write(
        tmp_path,
        "a.geojson",
        [feature("两块镇", [square(120.0, 30.0), square(120.5, 30.5)], kind="乡镇", geometry="MultiPolygon")],
    )
    b, problems = load_boundaries(tmp_path)
    assert problems == [] and not b.example_data
    assert b.unit_at(30.505, 120.505) == "两块镇" and b.unit_at(30.2, 120.2) is None


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        ([feature("", square(120, 30))], "第 1 个区域: 字段 properties.name: 必须写明街道或乡镇的名称"),
        (
            [feature("甲街道", square(120, 30), kind="区")],
            "区域 甲街道: 字段 properties.type: 应为 街道、乡镇、镇、乡 之一",
        ),
        ([feature("甲街道", [[[120, 30], [120.1, 30], [120.1, 30.1], [120, 30.1]]])], "环没有闭合"),
        (
            [feature("甲街道", [[[30, 120], [30, 120.1], [30.1, 120.1], [30, 120]]])],
            "坐标超出范围：[30, 120]",
        ),
        ([feature("甲街道", [[[120, 30], [120, 30], [120, 30]]])], "每个环至少要有 4 个坐标点"),
        (
            [feature("甲街道", [[[120, 30], [120.1, 30.1], [120.1, 30], [120, 30.1], [120, 30]]])],
            "区域 甲街道: 字段 geometry: 边界无效：Self-intersection",
        ),
        ([feature("甲街道", [120, 30], geometry="Point")], "字段 geometry: 必须是 Polygon 或 MultiPolygon"),
        (
            [feature("甲街道", square(120, 30)), feature("乙街道", square(120.005, 30.005))],
            "区域 乙街道: 与 甲街道（knowledge/boundaries/bad.geojson）的边界重叠",
        ),
        ([feature("甲街道", square(120, 30)), feature("甲街道", square(121, 31))], "区域 甲街道: 名称重复"),
    ],
)
def test_a_wrong_boundary_file_is_reported_with_the_unit_and_the_fault(tmp_path, features, expected):
    root = tmp_path / "knowledge"
    write(root, "bad.geojson", features)
    _, problems = load_boundaries(root)
    assert any(p.startswith("knowledge/boundaries/bad.geojson: ") and expected in p for p in problems), (
        problems
    )


def test_units_that_only_touch_are_fine(tmp_path):
    write(tmp_path, "ok.geojson", [feature("甲街道", square(120, 30)), feature("乙街道", square(120.01, 30))])
    assert load_boundaries(tmp_path)[1] == []


def test_the_loader_stops_on_a_bad_file_and_an_unknown_department(tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "tests" / "fixtures" / "kb_min", kb)
    write(kb, "a.geojson", [feature("甲街道", square(120, 30), department="不存在的局")])
    (kb / "boundaries" / "b.geojson").write_text("{ not json", encoding="utf-8")
    with pytest.raises(KnowledgeError) as failed:
        load_knowledge(kb)
    text = str(failed.value)
    assert "kb/boundaries/a.geojson: 区域 甲街道: department「不存在的局」未在 departments 中定义" in text
    assert "kb/boundaries/b.geojson: JSON 格式错误 第 1 行第 3 列" in text


def test_check_names_a_bad_boundary_file(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    kb = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", kb)
    write(kb, "示例区.geojson", [{"type": "Feature", "properties": {"name": "甲街道"}, "geometry": None}])
    monkeypatch.setenv("KNOWLEDGE_DIR", str(kb))
    assert main(["check"]) == 1
    assert (
        "knowledge/boundaries/示例区.geojson: 区域 甲街道: 字段 geometry: 必须是 Polygon 或 MultiPolygon"
        in (capsys.readouterr().err)
    )
