"""The 政策库 (knowledge/policies/) is validated like the rest of the base: a bad condition stops start-up and
`python -m bot check` with the file, the policy and the field."""

import shutil

import pytest

from bot.core.knowledge import KnowledgeError, load_knowledge
from tests.conftest import ROOT


@pytest.fixture
def kb_copy(tmp_path):
    dest = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", dest)
    return dest


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _problems(root):
    with pytest.raises(KnowledgeError) as exc:
        load_knowledge(root)
    return exc.value.problems


def test_the_shipped_library_loads_with_its_reference_data(real_kb):
    lib = real_kb.policies
    assert len(lib) >= 30
    assert {s.code for s in lib.industries.sections} == set("ABCDEFGHIJKLMNOPQRST")
    assert lib.industries.get("65").section == "I"
    assert lib.industries.inside("7020", "K")
    for p in lib.policies.values():
        assert p.source and p.updated and p.department
        assert real_kb.department(p.department) is not None


def test_a_bad_industry_code_names_file_policy_and_field(kb_copy):
    _edit(
        kb_copy / "policies" / "tax.yaml",
        'exclude: ["16", H, F, K, L, "90"]',
        'exclude: ["16", H, F, K, L, "99"]',
    )
    problems = _problems(kb_copy)
    assert any(
        "policies/tax.yaml" in p
        and "rd-super-deduction" in p
        and "conditions.industry.exclude" in p
        and "「99」" in p
        for p in problems
    ), problems


def test_a_misspelt_condition_is_refused_not_ignored(kb_copy):
    _edit(kb_copy / "policies" / "tax.yaml", "monthly_sales: {max: 10}", "monthly_sale: {max: 10}")
    problems = _problems(kb_copy)
    assert any(
        "vat-small-scale-exemption" in p and "conditions.monthly_sale" in p and "未知字段" in p
        for p in problems
    ), problems


def test_unknown_recognition_fact_and_place_are_named(kb_copy):
    path = kb_copy / "policies" / "local.yaml"
    _edit(path, "recognitions: [高新技术企业]", "recognitions: [高新企业认定]")
    _edit(path, "facts: {首次贷款: true}", "facts: {第一次贷款: true}")
    _edit(path, "place: [示例区]\n      disabled_ratio", "place: [别的区]\n      disabled_ratio")
    problems = "\n".join(_problems(kb_copy))
    assert "local-hnte-award: 字段 conditions.recognitions: 未知的资质「高新企业认定」" in problems
    assert "local-first-loan-interest: 字段 conditions.facts: 未知的情况「第一次贷款」" in problems
    assert "local-disabled-overquota-award: 字段 conditions.place: 未知的地区「别的区」" in problems


def test_inconsistent_bounds_dates_and_claims_are_refused(kb_copy):
    tax = kb_copy / "policies" / "tax.yaml"
    _edit(tax, "employees: {max: 30}\n    source", "employees: {max: 10, min: 20}\n    source")
    _edit(tax, "valid: {start: 2022-04-01, end: 2022-12-31}", "valid: {start: 2022-04-01, end: 2021-12-31}")
    _edit(
        tax,
        "      materials:\n        - 《退（抵）税申请表》\n",
        "",
    )
    problems = "\n".join(_problems(kb_copy))
    assert "disability-levy-exemption-small: 字段 conditions.employees: 下限 20 大于上限 10" in problems
    assert "small-scale-vat-exemption-2022: 字段 valid:" in problems
    assert "vat-incremental-credit-refund: 字段 claim: 依申请的政策必须写明 materials" in problems


def test_unknown_department_and_item_are_named(kb_copy):
    emp = kb_copy / "policies" / "employment.yaml"
    _edit(
        emp, "department: 人力资源和社会保障局\n    issuer: 财政部", "department: 人社处\n    issuer: 财政部"
    )
    _edit(emp, "      mode: 依申请\n", "      mode: 依申请\n      item: no-such-item\n")
    problems = "\n".join(_problems(kb_copy))
    assert "startup-guarantee-loan-sme: 字段 department: 部门「人社处」未在 departments 中定义" in problems
    assert "startup-guarantee-loan-sme: 字段 claim.item: 知识库中没有事项「no-such-item」" in problems


def test_bad_yaml_in_a_policy_file_names_the_file_and_line(kb_copy):
    (kb_copy / "policies" / "broken.yaml").write_text("policies:\n  - id: x\n   name: [\n", encoding="utf-8")
    problems = _problems(kb_copy)
    assert any("policies/broken.yaml" in p and "YAML 格式错误" in p for p in problems), problems


def test_check_reports_policy_problems_and_exits_1(kb_copy, tmp_path):
    import subprocess
    import sys

    _edit(
        kb_copy / "policies" / "tax.yaml",
        "taxpayer: [小规模纳税人]\n      monthly",
        "taxpayer: [小规模]\n      monthly",
    )
    run = subprocess.run(
        [sys.executable, "-m", "bot", "--knowledge", str(kb_copy), "check"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert run.returncode == 1
    assert "vat-small-scale-exemption" in run.stderr and "conditions.taxpayer" in run.stderr
