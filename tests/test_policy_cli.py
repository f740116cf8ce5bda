"""`python -m bot policies`: matching from the command line as JSON Lines, and bad input refused with a message
that says what is wrong."""

import json

from bot.cli.main import main

SOFTWARE = {
    "主体类型": "企业",
    "规模": "小微",
    "行业": "软件和信息技术服务业",
    "属地": "示例区",
    "纳税人类型": "一般纳税人",
}


def run(capsys, *args):
    code = main(["policies", *args])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_a_profile_prints_the_policies_it_qualifies_for_with_reasons(capsys):
    code, lines, _ = run(
        capsys, "--profile", json.dumps(SOFTWARE, ensure_ascii=False), "--date", "2026-11-26"
    )
    assert code == 0 and lines
    ids = [line["id"] for line in lines]
    assert "small-micro-loan-contract-stamp" in ids and "vat-incremental-credit-refund" in ids
    assert all(line["status"] == "符合" and line["reasons"] for line in lines)
    assert "job-retention-refund-2025" not in ids  # expired
    code, more, _ = run(capsys, "--profile", json.dumps(SOFTWARE, ensure_ascii=False), "--possible")
    assert len(more) > len(lines) and any(
        line["status"] == "可能符合" and line["to_confirm"] for line in more
    )


def test_why_names_the_failing_condition(capsys):
    profile = json.dumps({"主体类型": "个体工商户", "行业": "62"}, ensure_ascii=False)
    code, [line], _ = run(capsys, "--profile", profile, "--why", "rd-super-deduction")
    assert code == 0 and line["status"] == "不符合"
    assert any("个体工商户" in f for f in line["failed"])


def test_free_text_is_read_into_a_profile(capsys):
    code, lines, _ = run(capsys, "--text", "我们是示例区做软件的小微企业，一般纳税人")
    assert code == 0 and "vat-incremental-credit-refund" in [line["id"] for line in lines]


def test_a_contradictory_profile_is_questioned_not_guessed(capsys):
    code, lines, err = run(capsys, "--profile", '{"规模": "微型", "从业人数": 500, "行业": "C"}')
    assert code == 1 and not lines and "自相矛盾" in err and "微型" in err


def test_an_unknown_industry_names_the_nearest_sections_and_bad_json_is_refused(capsys):
    code, _, err = run(capsys, "--profile", '{"行业": "直播带货"}')
    assert code == 2 and "直播带货" in err and "最接近的门类" in err
    code, _, err = run(capsys, "--profile", '{"行业": ')
    assert code == 2 and "JSON" in err
    code, _, err = run(capsys, "--profile", "{}", "--why", "no-such-policy")
    assert code == 1 and "no-such-policy" in err
