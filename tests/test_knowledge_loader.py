"""The knowledge base loads, covers the catalogue, and a wrong file stops start-up naming file and entry."""

import csv
import shutil
import subprocess
import sys

import pytest

from bot.core.knowledge import KnowledgeError, load_knowledge

from .conftest import FIXTURE_KB, ROOT, SHARED

CATALOG = SHARED / "spec" / "catalog.csv"


@pytest.mark.skipif(not CATALOG.exists(), reason="../shared/spec/catalog.csv not present")
def test_every_catalog_entry_is_in_the_shipped_base(real_kb):
    rows = list(csv.DictReader(CATALOG.open(encoding="utf-8")))
    assert len(rows) == 146
    for row in rows:
        entry = real_kb.get(row["id"])
        assert entry is not None, f"missing {row['id']}"
        assert entry.kind == row["kind"]
        assert entry.name == row["name"]
        assert entry.department == row["department"]
        assert entry.audience == row["audience"]
        if row["related"]:
            assert sorted(entry.items) == sorted(row["related"].split(";")), row["id"]


def test_shipped_entries_have_source_date_and_aliases(real_kb):
    for e in real_kb.entries.values():
        assert e.source and e.updated, e.id
        assert len(e.aliases) >= 3, e.id


def test_exempt_materials_point_back_to_their_exemption(real_kb):
    for ex in real_kb.exemptions.values():
        for item_id in ex.items:
            item = real_kb.get(item_id)
            assert any(m.exempted_by == ex.id for m in item.materials), (ex.id, item_id)


def _copy_kb(tmp_path):
    dst = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, dst)
    return dst


def test_bad_yaml_names_the_file_and_line(tmp_path):
    kb = _copy_kb(tmp_path)
    (kb / "items" / "broken.yaml").write_text("items:\n  - id: x\n    name: [unclosed\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(kb)
    msg = str(err.value)
    assert "broken.yaml" in msg and "YAML 格式错误" in msg and "行" in msg


def test_yaml_is_read_by_libyaml_with_the_safe_loaders_result(monkeypatch):
    import yaml

    from bot.core.resources import parse_yaml

    text = (FIXTURE_KB / "items" / "items.yaml").read_text(encoding="utf-8") + (
        "extra:\n  when: 2026-11-23\n  at: 2026-11-23 10:00:00\n  n: 0x1f\n  f: 1.5e3\n  no: no\n  t: ~\n"
        "  s: '010'\n  flow: {a: [1, 2], b: 是}\n  anchor: &x [1]\n  again: *x\n"
    )
    assert parse_yaml(text) == yaml.load(text, Loader=yaml.SafeLoader)
    if yaml.__with_libyaml__:  # the C parser, whenever PyYAML was built with it
        used = []

        class Spy(yaml.CSafeLoader):
            def __init__(self, stream):
                used.append(stream)
                super().__init__(stream)

        monkeypatch.setattr(yaml, "CSafeLoader", Spy)
        assert parse_yaml("a: [1, 是]") == {"a": [1, "是"]} and used
    with pytest.raises(yaml.YAMLError):
        parse_yaml("!!python/object:os.system {}")  # safe: no arbitrary objects


def test_missing_field_names_file_entry_and_field(tmp_path):
    kb = _copy_kb(tmp_path)
    path = kb / "items" / "items.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("    summary: 内地居民结婚登记。\n", ""), encoding="utf-8"
    )
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(kb)
    assert any("items.yaml" in p and "t-marriage" in p and "summary" in p for p in err.value.problems)


def test_misspelt_field_is_rejected_not_ignored(tmp_path):
    kb = _copy_kb(tmp_path)
    path = kb / "items" / "items.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("    visits: 1\n", "    visit: 1\n", 1), encoding="utf-8"
    )
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(kb)
    assert any("t-id-reissue" in p and "visit" in p for p in err.value.problems)


def test_unknown_reference_and_duplicate_id_are_reported(tmp_path):
    kb = _copy_kb(tmp_path)
    path = kb / "exemptions.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "items: [t-id-reissue, t-marriage]", "items: [t-id-reissue, t-marriage, no-such-item]"
    )
    path.write_text(text, encoding="utf-8")
    (kb / "items" / "dup.yaml").write_text(
        (kb / "items" / "items.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(kb)
    problems = err.value.problems
    assert any("t-exempt-hukou-copy" in p and "no-such-item" in p for p in problems)
    assert any("dup.yaml" in p and "重复" in p for p in problems)


def test_check_command_fails_with_the_problem_on_stderr(tmp_path):
    kb = _copy_kb(tmp_path)
    (kb / "departments.yaml").write_text("departments: {not: a list}\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--knowledge", str(kb), "check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 1
    assert "departments.yaml" in proc.stderr


def test_check_command_passes_on_the_shipped_base():
    proc = subprocess.run([sys.executable, "-m", "bot", "check"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "校验通过" in proc.stdout
