"""属地 units from a map pin: the boundaries of the district's 街道 and 乡镇 as GeoJSON under
`knowledge/boundaries/*.geojson`, and `Boundaries.unit_at(lat, lon)` for the unit a point lies in.

A file is a GeoJSON FeatureCollection (RFC 7946: coordinates are [longitude, latitude], WGS-84, as phones and
Telegram give a pin). Each feature is one unit: `properties.name` (the unit's full name, e.g. 南湖街道),
optionally `properties.type` (街道, 乡镇, 镇, 乡) and `properties.department` (a department of
departments.yaml that handles 属地 matters there); its geometry a Polygon or MultiPolygon. Example data says so
in the collection's `metadata.example_data: true` (a foreign member, which GeoJSON allows).

The loader checks every file like the YAML files: valid JSON, the shape above, coordinates in range, rings
closed and polygons valid (shapely), names unique, and no two units overlapping (a point must belong to one).
Point-in-polygon is shapely's (a spatial index, then an exact test); a point on a border between two units
goes to the one listed first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

UNIT_TYPES = ("街道", "乡镇", "镇", "乡")
FOLDER = "boundaries"
OVERLAP_TOLERANCE = 1e-9  # square degrees: shared borders touch, they do not overlap


@dataclass(frozen=True)
class Unit:
    name: str
    type: str | None = None
    department: str | None = None
    source: str = ""  # the file it came from


@dataclass
class Boundaries:
    """Every unit of every boundary file, with an index for point lookups."""

    units: list[Unit] = field(default_factory=list)
    shapes: list[Any] = field(default_factory=list, repr=False)  # shapely geometries, parallel to units
    example_data: bool = False
    _tree: Any = field(default=None, repr=False)

    def __bool__(self) -> bool:
        return bool(self.units)

    def _index(self) -> Any:
        if self._tree is None:
            from shapely import STRtree

            self._tree = STRtree(self.shapes)
        return self._tree

    def unit_at(self, lat: float, lon: float) -> str | None:
        """The name of the unit the point (WGS-84) lies in, or None outside every unit (or without data)."""
        unit = self.find(lat, lon)
        return unit.name if unit is not None else None

    def find(self, lat: float, lon: float) -> Unit | None:
        if not self.units:
            return None
        from shapely import Point

        hits = self._index().query(Point(lon, lat), predicate="intersects")
        return self.units[int(min(hits))] if len(hits) else None


def load_boundaries(root: Path) -> tuple[Boundaries, list[str]]:
    """The boundaries under root/boundaries/ and the problems found (each naming the file and the unit)."""
    folder = root / FOLDER
    out = Boundaries()
    problems: list[str] = []
    if not folder.is_dir():
        return out, problems
    files = sorted(p for p in folder.iterdir() if p.suffix in (".geojson", ".json"))
    names: dict[str, str] = {}
    for path in files:
        rel = f"{root.name}/{FOLDER}/{path.name}"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            problems.append(f"{rel}: 文件不是 UTF-8 编码")
            continue
        except json.JSONDecodeError as exc:
            problems.append(f"{rel}: JSON 格式错误 第 {exc.lineno} 行第 {exc.colno} 列: {exc.msg}")
            continue
        units, shapes, example, found = _read_collection(data, rel)
        problems += found
        for unit, shape in zip(units, shapes, strict=True):
            if unit.name in names:
                problems.append(f"{rel}: 区域 {unit.name}: 名称重复（已在 {names[unit.name]} 中定义）")
                continue
            names[unit.name] = rel
            out.units.append(unit)
            out.shapes.append(shape)
        out.example_data = out.example_data or example
    problems += _overlaps(out)
    return out, problems


def _read_collection(data: Any, rel: str) -> tuple[list[Unit], list[Any], bool, list[str]]:
    from shapely.geometry import shape
    from shapely.validation import explain_validity

    problems: list[str] = []
    units: list[Unit] = []
    shapes: list[Any] = []
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        return [], [], False, [f'{rel}: 顶层必须是 GeoJSON FeatureCollection（"type": "FeatureCollection"）']
    features = data.get("features")
    if not isinstance(features, list) or not features:
        return [], [], False, [f"{rel}: features 必须是非空列表"]
    meta: dict[str, Any] = data["metadata"] if isinstance(data.get("metadata"), dict) else {}
    example = bool(meta.get("example_data"))
    for i, feature in enumerate(features):
        found = feature.get("properties") if isinstance(feature, dict) else None
        props: dict[str, Any] = found if isinstance(found, dict) else {}
        name = props.get("name")
        label = f"区域 {name}" if isinstance(name, str) and name.strip() else f"第 {i + 1} 个区域"
        where = f"{rel}: {label}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(f"{where}: 必须是 GeoJSON Feature")
            continue
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}: 字段 properties.name: 必须写明街道或乡镇的名称")
            continue
        kind = props.get("type")
        if kind is not None and kind not in UNIT_TYPES:
            problems.append(
                f"{where}: 字段 properties.type: 应为 {'、'.join(UNIT_TYPES)} 之一，实际为“{kind}”"
            )
            continue
        department = props.get("department")
        if department is not None and (not isinstance(department, str) or not department.strip()):
            problems.append(f"{where}: 字段 properties.department: 必须是部门名称")
            continue
        geometry = feature.get("geometry")
        if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
            problems.append(f"{where}: 字段 geometry: 必须是 Polygon 或 MultiPolygon")
            continue
        bad = _coordinate_problem(geometry.get("coordinates"), geometry["type"])
        if bad:
            problems.append(f"{where}: 字段 geometry.coordinates: {bad}")
            continue
        try:
            geom = shape(geometry)
        except (ValueError, TypeError, AttributeError) as exc:
            problems.append(f"{where}: 字段 geometry: 无法解析：{exc}")
            continue
        if geom.is_empty or not geom.is_valid:
            problems.append(f"{where}: 字段 geometry: 边界无效：{explain_validity(geom)}")
            continue
        units.append(Unit(name.strip(), kind, department.strip() if department else None, rel))
        shapes.append(geom)
    return units, shapes, example, problems


def _coordinate_problem(coords: Any, kind: str) -> str | None:
    polygons = coords if kind == "MultiPolygon" else [coords]
    if not isinstance(polygons, list) or not polygons:
        return "坐标为空"
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            return "每个多边形须是若干个环（坐标列表）"
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                return "每个环至少要有 4 个坐标点（首尾相同）"
            for point in ring:
                if (
                    not isinstance(point, list | tuple)
                    or len(point) < 2
                    or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in point[:2])
                ):
                    return f"坐标点应为 [经度, 纬度] 的数字，实际为 {str(point)[:40]}"
                lon, lat = point[0], point[1]
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    return f"坐标超出范围：[{lon}, {lat}]（应为 [经度, 纬度]，经度 -180–180，纬度 -90–90）"
            if list(ring[0][:2]) != list(ring[-1][:2]):
                return "环没有闭合：最后一个坐标点须与第一个相同"
    return None


def _overlaps(b: Boundaries) -> list[str]:
    problems: list[str] = []
    if len(b.shapes) < 2:
        return problems
    from shapely import STRtree

    tree = STRtree(b.shapes)
    for i, geom in enumerate(b.shapes):
        for j in tree.query(geom, predicate="intersects"):
            j = int(j)
            if j <= i:
                continue
            area = geom.intersection(b.shapes[j]).area
            if area > OVERLAP_TOLERANCE:
                problems.append(
                    f"{b.units[j].source}: 区域 {b.units[j].name}: 与 {b.units[i].name}（{b.units[i].source}）"
                    "的边界重叠，同一地点只能属于一个街道或乡镇"
                )
    return problems
