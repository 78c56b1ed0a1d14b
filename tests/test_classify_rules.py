"""The rule language: configuration checks, merging with the defaults, predicates, trailers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pathlib
from typing import Any

import pytest

from piachange import model
from piachange.causes import commit_statements, split_statement, stray_lines, stray_text
from piachange.config import Config, load_config, parse_config
from piachange.errors import PiaError
from piachange.predicates import edit_distance, glob_matches, law_references, mask_law, only_digits_differ, only_law_differs, system_terms
from piachange.threshold import level

SRC = "piachange.toml"


def err(section: dict[str, Any]) -> str:
    with pytest.raises(PiaError) as e:
        parse_config(section, SRC)
    return str(e.value)


# ---------------------------------------------------------------- unknown keys anywhere


@pytest.mark.parametrize("section, message", [
    ({"rule": []}, "unknown key 'rule' (did you mean 'rules'?)"),
    ({"report": {"blnk": "-"}}, "unknown key 'report.blnk' (did you mean 'blank'?)"),
    ({"settings": {"third_party_timng": "事前"}}, "unknown key 'settings.third_party_timng' (did you mean 'third_party_timing'?)"),
    ({"rules": [{"id": "x", "timing": "事前", "pth": "basic"}]}, "unknown key 'rules[1] (x).pth' (did you mean 'path'?)"),
    ({"rules": [{"id": "typo-fix", "enabld": True}]}, "unknown key 'rules[1] (typo-fix).enabld' (did you mean 'enabled'?)"),
    ({"causes": [{"id": "x", "label": "x", "timing": "事前", "alias": []}]}, "unknown key 'causes[1].alias' (did you mean 'aliases'?)"),
    ({"overrides": [{"commit": "abcdef1", "timing": "事後", "reason": "r", "items": "x"}]}, "unknown key 'overrides[1].items' (did you mean 'item'?)"),
    ({"templates": {"law": "{cuase}による変更"}}, "'templates.law': unknown placeholder {cuase} (did you mean 'cause'?)"),
    ({"rules": [{"id": "x", "timing": "事前", "warning": "{itme}"}]}, "unknown placeholder {itme} (did you mean 'item'?)"),
    ({"causes": [{"id": "minor", "label": "軽微", "timing": "事後", "reason": "軽微 {oops}"}]}, "'causes[1].reason': unknown placeholder {oops}"),
    ({"causes": [{"id": "minor", "label": "軽微", "timing": "事後", "reason": "軽微 {"}]}, "'causes[1].reason': Single '{' encountered"),
    ({"templates": {"thrid-party": "第三者点検"}}, "'templates.thrid-party' is used by no rule or cause (did you mean 'third-party'?)"),
])
def test_unknown_keys_fail_with_the_key_and_a_suggestion(section: dict[str, Any], message: str) -> None:
    assert message in err(section)
    assert err(section).startswith(SRC)


@pytest.mark.parametrize("rule, message", [
    ({"timing": "事前"}, "needs an 'id'"),
    ({"id": "x", "timing": "jizen"}, "'rules[1] (x).timing' must be 事前, 事後, cause, revision or setting:<name>"),
    ({"id": "x", "timing": "事前", "path": "files.*.acqusition"}, "names no item of any form (did you mean 'files.*.acquisition'?)"),
    ({"id": "x", "timing": "事前", "path": "threshold", "form": "juten"}, "names no item of any form"),
    ({"id": "x", "timing": "事前", "label": "存在しない項目"}, "is part of no official item label"),
    ({"id": "x", "timing": "事前", "kind": "modifed"}, "'modifed' is not a change kind (did you mean 'modified'?)"),
    ({"id": "x", "timing": "事前", "form": "zenkoumoku"}, "(did you mean 'zenkomoku'?)"),
    ({"id": "x", "timing": "事前", "cause": "法令改征"}, "'法令改征' is not a known cause"),
    ({"id": "x", "timing": "事前", "template": "lw"}, "'lw' is not a template (did you mean 'law'?)"),
    ({"id": "x", "timing": "事前", "template": "law", "reason": "x"}, "has both 'template' and 'reason'"),
    ({"id": "x", "timing": "事前", "before": "("}, "is not a valid regular expression"),
    ({"id": "x", "timing": "事前", "revision": "has-jizn"}, "(did you mean 'has-jizen'?)"),
    ({"id": "x", "timing": "事前", "max_edit": 0}, "max_edit' must be a whole number ≥ 1"),
    ({"id": "x", "timing": "事前", "star": "yes"}, "'rules[1] (x).star' must be true or false"),
    ({"id": "x", "timing": "setting:third_party"}, "unknown setting 'third_party' (did you mean 'third_party_timing'?)"),
    ({"id": "x", "timing": "cause", "cause": "none"}, "takes its timing from the cause but matches rows without one"),
])
def test_bad_rules_are_refused(rule: dict[str, Any], message: str) -> None:
    assert message in err({"rules": [rule]})


def test_bad_settings_causes_and_overrides_are_refused() -> None:
    assert "'settings.third_party_timing' must be one of 事前, 事後, revision" in err({"settings": {"third_party_timing": "後"}})
    assert "'settings.common_systems' must be list" in err({"settings": {"common_systems": "宛名システム"}})
    assert "cause name '法改正' is used by both 'law' and 'mine'" in err(
        {"causes": [{"id": "mine", "label": "法改正", "timing": "事後"}]})
    assert "forces timing 事後 without a 'reason'" in err({"overrides": [{"commit": "abcdef1", "timing": "事後"}]})
    assert "at least 7 hex digits" in err({"overrides": [{"commit": "abc", "cause": "法令改正"}]})
    assert "needs either 'timing' (with 'reason') or 'cause'" in err({"overrides": [{"commit": "abcdef1"}]})
    assert "'overrides[1].cause' '法律' is not a known cause" in err({"overrides": [{"commit": "abcdef1", "cause": "法律"}]})
    assert "rule id 'x' is defined twice" in err({"rules": [{"id": "x", "timing": "事前"}, {"id": "x", "timing": "事後"}]})


@pytest.mark.parametrize("file, text, message", [
    ("piachange.toml", '# 設定\n\n[templates]\nlaw = "法令改正"\n\n[rule]\nid = "x"\n',
     "piachange.toml:6: unknown key 'rule' (did you mean 'rules'?)"),
    ("piachange.toml", '[settings]\nthird_party_timing = "事前"\n\n[report]\nblank = "記載なし"\nblnk = "-"\n',
     "piachange.toml:6: unknown key 'report.blnk' (did you mean 'blank'?)"),
    ("piachange.toml", 'report.timezone = "Asia/Tokyo"\nreport.removed = "（削除）"\nreport.timzone = "UTC"\n',
     "piachange.toml:3: unknown key 'report.timzone' (did you mean 'timezone'?)"),
    ("pyproject.toml", '[project]\nname = "x"\n\n[tool.piachange.report]\nremoved = "-"\nremove = "-"\n',
     "pyproject.toml:6: unknown key 'tool.piachange.report.remove' (did you mean 'removed'?)"),
])
def test_an_unknown_key_names_its_line(tmp_path: pathlib.Path, file: str, text: str, message: str) -> None:
    (tmp_path / file).write_text(text, encoding="utf-8")
    with pytest.raises(PiaError) as e:
        load_config(str(tmp_path))
    assert str(e.value) == message


def test_pyproject_tool_section_is_read(tmp_path: Any) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.piachange.settings]\nthird_party_timing = "事前"\n', encoding="utf-8")
    cfg = load_config(str(tmp_path))
    assert cfg.ruleset.settings["third_party_timing"] == "事前"
    assert cfg.ruleset.sources["settings.third_party_timing"] == "pyproject.toml [tool.piachange]"


# ---------------------------------------------------------------- merging with the defaults


def test_organisation_rules_come_first_and_replace_defaults_in_place() -> None:
    cfg = parse_config({"rules": [
        {"id": "mine", "timing": "事前", "path": "basic.department"},
        {"id": "third-party-result", "timing": "事前", "path": "procedure.third_party"},
        {"id": "typo-fix", "enabled": True},
        {"id": "pure-deletion", "enabled": False},
    ]}, SRC)
    ids = [r.id for r in cfg.ruleset.rules]
    default = [r.id for r in Config().ruleset.rules]
    assert ids == ["mine", *default]
    rules = {r.id: r for r in cfg.ruleset.rules}
    assert rules["third-party-result"].origin == SRC and rules["third-party-result"].timing == "事前"
    assert rules["typo-fix"].enabled and rules["typo-fix"].max_edit == 1  # only switched on, the rest kept
    assert not rules["pure-deletion"].enabled
    assert not {r.id: r for r in Config().ruleset.rules}["typo-fix"].enabled


def test_templates_can_be_reworded_and_added() -> None:
    cfg = parse_config({"templates": {"law": "法改正に基づく軽微な修正", "mine": "{cause}による"},
                        "rules": [{"id": "x", "timing": "事後", "template": "mine"}]}, SRC)
    assert cfg.ruleset.templates["law"] == "法改正に基づく軽微な修正"
    assert cfg.ruleset.sources["templates.law"] == SRC
    assert Config().ruleset.templates["law"].endswith("（法令改正等による変更）")


# ---------------------------------------------------------------- trailers


def commit(*trailers: tuple[str, str], message: str = "変更") -> model.Commit:
    return model.Commit("a" * 40, "山田 花子", dt.datetime(2026, 3, 16, 9), message, tuple(trailers))


CAUSES = Config().ruleset.causes


def test_cause_scope_syntax() -> None:
    assert split_statement("法令改正 (Ⅰ-5②, files.*.acquisition.*)", "c", "PIA-Cause") == ("法令改正", ("Ⅰ-5②", "files.*.acquisition.*"))
    assert split_statement("標準化（Ⅱ-6①保管場所，Ⅱ-6③消去方法）", "c", "PIA-Cause") == ("標準化", ("Ⅱ-6①保管場所", "Ⅱ-6③消去方法"))
    assert split_statement("標準化", "c", "PIA-Cause") == ("標準化", ())
    with pytest.raises(PiaError, match="empty item list"):
        split_statement("標準化 ()", "c", "PIA-Cause")
    with pytest.raises(PiaError, match="expected a name"):
        split_statement("(Ⅰ-5②)", "c", "PIA-Cause")


def test_trailers_become_statements() -> None:
    [law, timing] = commit_statements(commit(("PIA-Cause", "法改正 (Ⅰ-5②)"), ("PIA-Timing", "事後"), ("PIA-Reason", "記載漏れ")), CAUSES)
    assert (law.cause and law.cause.id, law.scope) == ("law", ("Ⅰ-5②",))
    assert (timing.timing, timing.reason, timing.is_override) == ("事後", "記載漏れ", True)
    [c] = commit_statements(commit(("pia-cause", "ＧＯＶ-ＣＬＯＵＤ")), CAUSES)
    assert c.cause and c.cause.id == "gov-cloud"
    assert commit_statements(commit(("Signed-off-by", "x"), ("PIA-Date", "2026-04-01")), CAUSES) == ()


@pytest.mark.parametrize("trailers, message", [
    ((("PIA-Cause", "法令改征"),), "commit aaaaaaaaa (変更): unknown cause '法令改征' in PIA-Cause (did you mean '法令改正'?)"),
    ((("PIA-Timing", "事後"),), "PIA-Timing needs a PIA-Reason"),
    ((("PIA-Timing", "あとで"), ("PIA-Reason", "r")), "PIA-Timing must be 事前 or 事後"),
    ((("PIA-Timing", "事後"), ("PIA-Timing", "事前"), ("PIA-Reason", "a"), ("PIA-Reason", "b"), ("PIA-Reason", "c")), "3 PIA-Reason"),
    ((("PIA-Reasons", "x"),), "unknown trailer 'PIA-Reasons' (did you mean 'PIA-Reason'?)"),
    ((("PIA-Reason", "記載漏れの補正"),), "commit aaaaaaaaa (変更): PIA-Reason without PIA-Timing or PIA-Cause decides nothing"),
])
def test_bad_trailers_name_the_commit(trailers: tuple[tuple[str, str], ...], message: str) -> None:
    with pytest.raises(PiaError) as e:
        commit_statements(commit(*trailers), CAUSES)
    assert message in str(e.value)


@pytest.mark.parametrize("message, line", [
    ("ガバメントクラウドへの移行\n\nPIA-Cause: 標準化\n移行は令和8年4月の予定。", 3),  # a note in the trailers' paragraph
    ("ガバメントクラウドへの移行\n\nPIA-Cause: 標準化\n\n移行は令和8年4月の予定。", 3),  # a paragraph after them
    ("ガバメントクラウドへの移行\n\nPIA-Cause：標準化", 3),  # a full-width colon: git reads no trailer
    ("消去方法\n\nPIA-Timing: 事前\nPIA-Reason: 標準化と同時に提出\n\n以上", 3),
])
def test_a_pia_line_that_is_not_read_as_a_trailer_is_found_with_its_line(message: str, line: int) -> None:
    """git reads trailers from the last paragraph only: a PIA-Cause elsewhere states nothing, and a 標準化
    change of an item without ※ would be filed 事後 by the rules without a word (see the report tests)."""
    c = commit(message=message)
    assert commit_statements(c, CAUSES) == ()  # what git does not read states nothing
    assert stray_lines(c)[0] == (line, message.split("\n")[line - 1].split(":")[0].split("：")[0])
    assert f"message line {line}: " in stray_text(c, *stray_lines(c)[0]) and "is not read as a trailer" in stray_text(c, *stray_lines(c)[0])
    assert stray_lines(commit(message="件名\n\n本文\n\nPIA-Cause: 標準化")) == ()


# ---------------------------------------------------------------- predicates


@pytest.mark.parametrize("before, after", [
    ("番号法第19条第7号に基づく", "番号法第19条第8号に基づく"),
    ("番号法別表第1の68の項", "番号法別表の111の項"),
    ("番号法第9条第1項", "番号利用法第9条第1項"),
    ("第19条第14号", "第19条16号"),
    ("予防接種法施行令第1条", "予防接種法施行規則第2条"),
    ("越谷市個人情報取扱事務の委託に関する指針に基づき、", "越谷市保有個人情報の適切な管理に関する指針に基づき、"),
    ("行政手続における特定の個人を識別するための番号の利用等に関する法律第19条第7号", "行政手続における特定の個人を識別するための番号の利用等に関する法律第19条第8号"),
    ("「越谷市意見公募手続に関する要綱」", "「越谷市パブリックコメント手続要綱」"),
])
def test_only_law_references_differ(before: str, after: str) -> None:
    assert only_law_differs(before, after)


@pytest.mark.parametrize("before, after", [
    ("紙媒体で入手する方法", "電子申請で入手する方法"),
    ("独立行政法人", "地方独立行政法人"),
    ("番号法第9条第1項", "番号法第9条第1項及び第19条第8号"),
    ("10項目未満", "50項目未満"),
    ("番号法第19条第8号", "番号法第19条第8号"),
    ("番号法第19条第8号に基づき提供する", "番号法第19条第8号に基づき提供しない"),
    ("入手方法", "入手手法"),
])
def test_more_than_law_references_differ(before: str, after: str) -> None:
    assert not only_law_differs(before, after)


def test_mask_keeps_the_rest_of_the_text() -> None:
    assert mask_law("番号法第19条第8号及び別表第二の16の項に基づく") == "〔法令名〕〔条項〕及び〔別表〕に基づく"
    assert law_references("予防接種法第5条及び紙による方法") == ["予防接種法", "第5条"]


def test_digits_and_edit_distance() -> None:
    assert only_digits_differ("提供を行っている (29) 件", "提供を行っている (30) 件")
    assert not only_digits_differ("29件", "29件")
    assert edit_distance("アクセス制御を行っている。", "アクセス制御を行っている", 3) == 1
    assert edit_distance("提供する", "提供しない", 1) == 2  # beyond the limit: limit + 1
    assert edit_distance("a" * 3000, "b" * 3000, 2) == 3


def test_globs_cover_descendants() -> None:
    assert glob_matches("files.*.storage.erasure", ("files", "1", "storage", "erasure"))
    assert glob_matches("procedure.third_party", ("procedure", "third_party", "result"))
    assert glob_matches("**.erasure", "files.2.storage.erasure")
    assert glob_matches("basic.systems.2", "basic.systems.2.name")
    assert not glob_matches("basic.systems.2", "basic.systems.12.name")
    assert not glob_matches("files.*.storage", ("files", "1"))


def test_system_terms() -> None:
    text = "<ガバメントクラウドにおける措置> ①中間サーバー・プラットフォームと情報提供ネットワークシステム。①システムの名称"
    assert system_terms(text) == {"ガバメントクラウド", "中間サーバー・プラットフォーム", "情報提供ネットワークシステム"}


@pytest.mark.parametrize("population, high, expected", [(0, True, 0), (1, False, 1), (2, False, 1), (2, True, 2), (3, False, 2), (3, True, 3), (4, False, 3)])
def test_threshold_table(population: int, high: bool, expected: int) -> None:
    assert level(population, high) == expected


def test_every_packaged_rule_names_real_items() -> None:
    """Reports skip looking the packaged rules' paths and labels up in the forms; this does it once."""
    from piachange.rules import build_ruleset, default_table

    assert build_ruleset({}, "piachange.toml", defaults=default_table()).rules
    bad = default_table()
    bad["rules"][0] = {**bad["rules"][0], "path": ["basic.no_such_item"]}
    with pytest.raises(PiaError, match="names no item of any form"):
        build_ruleset({}, "piachange.toml", defaults=bad)


def test_a_configuration_that_is_not_utf8_is_one_located_line(tmp_path: pathlib.Path) -> None:
    (tmp_path / "piachange.toml").write_bytes('[templates]\nlaw = "根拠法令の改正"\n'.encode("cp932"))
    with pytest.raises(PiaError, match=r"^piachange.toml:2: not UTF-8 text \(byte 0x8d\): save it as UTF-8$"):
        load_config(str(tmp_path))
    (tmp_path / "piachange.toml").write_text('[templates]\nlaw = "根拠法令の改正"\n', encoding="utf-16")  # PowerShell 5.1's Out-File
    with pytest.raises(PiaError, match=r"^piachange.toml: not UTF-8 but UTF-16 text .*; save it as UTF-8$"):
        load_config(str(tmp_path))


def test_a_configuration_saved_by_notepad_is_read(tmp_path: pathlib.Path) -> None:
    """Notepad on Windows may save UTF-8 with a byte order mark, and git for Windows checks out
    CRLF: such a piachange.toml is read, and its keys are found on their lines."""
    text = '# 設定\n\n[templates]\nlaw = "根拠法令の改正"\n\n[report]\nblank = "記載なし"\n'
    (tmp_path / "piachange.toml").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    assert load_config(str(tmp_path)).style.blank == "記載なし"
    (tmp_path / "piachange.toml").write_bytes(b"\xef\xbb\xbf" + (text + "blnk = '-'\n").replace("\n", "\r\n").encode("utf-8"))
    with pytest.raises(PiaError, match=r"^piachange.toml:8: unknown key 'report.blnk'"):
        load_config(str(tmp_path))


def test_the_threshold_judges_with_the_inputs_the_assessment_states() -> None:
    """A 基礎 whose 取扱者数 (500人未満) and 重大事故 (発生なし) are stated and unchanged: 対象人数 rising to
    10万人以上30万人未満 requires a 重点項目評価, certainly, and no 全項目評価 (docs/rules.md §7)."""
    from piachange.threshold import threshold_findings

    context = (("threshold.population.count", "1万人以上10万人未満", "10万人以上30万人未満"),
               ("threshold.handlers.count", "500人未満", "500人未満"), ("threshold.incident.occurred", "発生なし", "発生なし"))
    ch = model.Change("市長 1", "kiso.toml", "kiso", ("threshold", "population", "count"), "threshold.population.count",
                      "対象人数", model.CHOICE, False, "1万人以上10万人未満", "10万人以上30万人未満", "1万人以上10万人未満",
                      "10万人以上30万人未満", context=context)
    [finding] = threshold_findings([ch], False)[0]
    assert finding.severity == "error"
    assert finding.message.endswith("rises from 基礎項目評価 to 基礎項目評価及び重点項目評価: a new 重点項目評価 is required")
    [unknown] = threshold_findings([dataclasses.replace(ch, context=())], False)[0]  # blank inputs: every value is possible
    assert "全項目評価" in unknown.message
