"""classify over real repositories: the behaviour users rely on, end to end through ``report``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import pathlib
import tomllib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from piachange import model
from piachange.classify import classify, explain
from piachange.config import Config, load_config, parse_config
from piachange.diff import diff_documents
from piachange.document import load_bytes
from piachange.errors import PiaError
from piachange.fmt import format_data
from piachange.report import Options, build_report
from piachange.schema import load_form

from conftest import Repo, run_main

FILE = "assessments/x.toml"
JST = dt.timezone(dt.timedelta(hours=9))
LAW = "重要な変更に当たらないため、事前の公表・提出が義務付けられない。（法令改正等による変更）"


def doc(form: str, data: dict[str, Any]) -> str:
    """Return the canonical text of a document with a few items filled."""
    return format_data(load_form(form), {"meta": {"form": form, "schema_version": 1}, **data})


def juten(legal_basis: str, sources: dict[str, Any]) -> str:
    return doc("juten", {"basic": {"linkage": {"status": "実施する", "legal_basis": legal_basis}},
                         "files": {"1": {"acquisition": {"sources": sources}}}})


def cli(args: list[str], cwd: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> tuple[int, str, str]:
    code = run_main(args, cwd, monkeypatch)
    out, err = capsys.readouterr()
    return code, out, err


def by_path(report: model.Report) -> dict[str, model.Row]:
    return {".".join(r.change.path): r for r in report.rows}


# ---------------------------------------------------------------- what users must be able to rely on


def test_renumbered_law_is_jigo_and_a_new_source_is_jizen_with_no_configuration(repo: Repo) -> None:
    repo.write(FILE, juten("番号法第19条第7号及び別表第二の16の項", {"principal": True}))
    first = repo.commit("初版")
    repo.write(FILE, juten("番号法第19条第8号及び別表第二の16の項", {"principal": True}))
    repo.commit("番号法の号ずれを反映")
    repo.write(FILE, juten("番号法第19条第8号及び別表第二の16の項", {"principal": True, "local_gov": True, "local_gov_detail": "転入元市区町村"}))
    repo.commit("転入元市区町村からの入手を追加")
    rows = by_path(build_report(Options(since=first, repo=str(repo.path))))
    law, source = rows["basic.linkage.legal_basis"], rows["files.1.acquisition.sources"]
    assert (law.timing, law.reason, law.rule) == ("事後", LAW, "law-reference-only")
    assert law.change.item == "Ⅰ 基本情報 5. 情報提供ネットワークシステムによる情報連携 ②法令上の根拠"
    assert (source.timing, source.rule) == ("事前", "star-substantive")
    assert any("no PIA-Cause" in w for w in source.warnings)


def zen(location: str, erasure: str) -> str:
    """Return a 全項目 document with ファイル1's 保管場所 and 消去方法."""
    return doc("zenkomoku", {"files": {"1": {"storage": {"location": location, "erasure": erasure}}}})


def test_a_system_replacement_cause_files_the_erasure_method_jizen(repo: Repo) -> None:
    repo.write(FILE, zen("庁舎内サーバー室のサーバーに保管する。", "保存期間を過ぎた情報はシステムで削除する。"))
    first = repo.commit("初版")
    repo.write(FILE, zen("ガバメントクラウド上の健康管理システムに保管する。", "保存期間を過ぎた情報はガバメントクラウド上の健康管理システムで削除する。"))
    repo.commit("健康管理システムの更改\n\nPIA-Cause: システム更改")
    rows = by_path(build_report(Options(since=first, repo=str(repo.path))))
    erasure = rows["files.1.storage.erasure"]
    assert not erasure.change.star
    assert erasure.change.item == "Ⅱ 特定個人情報ファイルの概要 6. 特定個人情報の保管・消去 ③消去方法"
    assert (erasure.timing, erasure.rule, erasure.reason) == ("事前", "cause:system", "システム更改に伴う変更")
    assert rows["files.1.storage.location"].timing == "事前"


THIRD_OLD = {"procedure": {"third_party": {"conducted_on": dt.date(2021, 5, 11), "result": "基準を満たしている。"}}}
THIRD_NEW = {"procedure": {"third_party": {"conducted_on": dt.date(2025, 1, 10), "result": "基準を満たしている。意見が付された。"}}}


def third_party_repo(repo: Repo, config: str) -> str:
    repo.write("piachange.toml", config)
    repo.write(FILE, doc("zenkomoku", THIRD_OLD))
    first = repo.commit("初版")
    repo.write(FILE, doc("zenkomoku", THIRD_NEW))
    repo.commit("第三者点検の結果を反映")
    return first


def test_an_organisation_files_third_party_rows_jizen_and_explain_shows_the_rule(
        repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    first = third_party_repo(repo, '[settings]\nthird_party_timing = "事前"\n\n[templates]\nthird-party = "第三者点検の実施に伴う変更"\n')
    rows = build_report(Options(since=first, repo=str(repo.path))).rows
    assert [(r.timing, r.rule, r.reason) for r in rows] == [("事前", "third-party-result", "第三者点検の実施に伴う変更")] * 2
    code, out, err = cli(["explain", "--since", first, "--item", "③結果"], repo.path, monkeypatch, capsys)
    assert code == 0, err
    assert "✓ third-party-result (rules/default.toml): path procedure.third_party.result matches procedure.third_party" in out
    assert "timing from setting third_party_timing = 事前 (piachange.toml)" in out
    assert "→ 事前 「第三者点検の実施に伴う変更」 (rule third-party-result; 説明 from template third-party (piachange.toml)" in out
    assert "①実施日" not in out  # --item keeps one row
    code, out, err = cli(["explain", "--since", first, "--format", "json"], repo.path, monkeypatch, capsys)
    data = json.loads(out)
    assert [r["decision"]["rule"] for r in data["rows"]] == ["third-party-result"] * 2
    tried = data["rows"][0]["rules"]
    assert [a["rule"] for a in tried] == ["new-assessment", "end-of-assessment", "third-party-result"]
    assert [a["matched"] for a in tried] == [False, False, True]


@pytest.mark.parametrize("item", ["存在しない項目", "Ⅸ-9⑨", "procedure.third_party.reslt", "basic.systems.2"])
def test_explain_of_an_item_no_assessment_has_is_one_line(
        repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Any, item: str) -> None:
    first = third_party_repo(repo, "")
    code, out, err = cli(["explain", "--since", first, "--item", item], repo.path, monkeypatch, capsys)
    assert code == 1 and out == ""
    assert err.startswith(f"Error: no item '{item}' in the assessments of {first}..HEAD") and err.count("\n") == 1


@pytest.mark.parametrize("item", ["③消去方法", "Ⅱ-6③", "basic.*", "files.1.storage", "消去"])
def test_explain_of_an_unchanged_item_says_no_rows(repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Any, item: str) -> None:
    """Items the assessments have (blank, or in a first ファイル they do not fill in) that no row is about."""
    first = third_party_repo(repo, "")
    code, out, err = cli(["explain", "--since", first, "--item", item], repo.path, monkeypatch, capsys)
    assert code == 0, err
    assert out.endswith("\nno rows\n") and "→" not in out


def test_explain_suggests_the_closest_item(repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    first = third_party_repo(repo, "")
    code, _, err = cli(["explain", "--since", first, "--item", "Ⅱ 特定個人情報ファイルの概要 6. 特定個人情報の保管・消去 ③消去方方"],
                       repo.path, monkeypatch, capsys)
    assert code == 1
    assert err.endswith("(did you mean 「Ⅱ 特定個人情報ファイルの概要 6. 特定個人情報の保管・消去 ③消去方法」?)\n")


def test_an_organisation_rule_replacing_a_default_by_id_is_named_in_explain(
        repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    first = third_party_repo(repo, '[[rules]]\nid = "third-party-result"\npath = "procedure.third_party"\ntiming = "事前"\n'
                                   'reason = "第三者点検を公表前に実施"\n')
    code, out, err = cli(["explain", "--since", first], repo.path, monkeypatch, capsys)
    assert code == 0, err
    assert "✓ third-party-result (piachange.toml)" in out
    assert "→ 事前 「第三者点検を公表前に実施」 (rule third-party-result; 説明 from rule third-party-result (piachange.toml)" in out


@pytest.mark.parametrize("config, file", [
    ('[settings]\nthird_party_timng = "事前"\n', "piachange.toml"),
    ('[tool.piachange.settings]\nthird_party_timng = "事前"\n', "pyproject.toml"),
])
def test_a_misspelt_key_fails_with_the_key_and_a_suggestion(
        repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Any, config: str, file: str) -> None:
    repo.write(FILE, doc("zenkomoku", THIRD_OLD))
    first = repo.commit("初版")
    repo.write(FILE, doc("zenkomoku", THIRD_NEW))
    repo.write(file, config)
    repo.commit("第三者点検")
    for command in ("report", "explain"):
        code, out, err = cli([command, "--since", first], repo.path, monkeypatch, capsys)
        assert (code, out) == (1, "")
        assert "unknown key 'settings.third_party_timng' (did you mean 'third_party_timing'?)" in err
        assert file in err and "Traceback" not in err


def test_an_override_recorded_after_the_fact_in_the_configuration(repo: Repo) -> None:
    repo.write(FILE, juten("番号法第19条第8号", {"principal": True}))
    first = repo.commit("初版")
    repo.write(FILE, juten("番号法第19条第8号", {"principal": True, "other": True, "other_detail": "医療機関"}))
    sha = repo.commit("入手元の記載漏れ")
    assert build_report(Options(since=first, repo=str(repo.path))).rows[0].timing == "事前"
    repo.write("piachange.toml", f'[[overrides]]\ncommit = "{sha[:8]}"\nitem = "Ⅱ-3①入手元"\ntiming = "事後"\n'
                                 'reason = "従前から医療機関から入手しており、記載漏れを補正するもの"\n')
    [row] = build_report(Options(since=first, repo=str(repo.path))).rows
    assert (row.timing, row.override, row.rule) == ("事後", True, f"override:{sha[:9]}")
    assert row.reason == "従前から医療機関から入手しており、記載漏れを補正するもの"
    assert any("files this ※ change 事後 although rule star-substantive says 事前" in w for w in row.warnings)


@pytest.mark.parametrize(("named", "applies"), [("5", True), ("みなと台市長 5", True), (FILE, True), ("6", False)])
def test_a_recorded_override_names_its_assessment_by_number_identity_or_path(repo: Repo, named: str, applies: bool) -> None:
    cover = {"cover": {"number": "5", "organization": "みなと台市長"}}
    repo.write(FILE, doc("juten", {**cover, "basic": {"linkage": {"status": "実施する", "legal_basis": "番号法第19条第8号"}}}))
    first = repo.commit("初版")
    repo.write(FILE, doc("juten", {**cover, "basic": {"linkage": {"status": "実施する", "legal_basis": "番号法第19条第9号"}}}))
    sha = repo.commit("根拠の補正")
    repo.write("piachange.toml", f'[[overrides]]\ncommit = "{sha}"\nfile = "{named}"\ntiming = "事前"\nreason = "念のため"\n')
    for per_commit in (False, True):
        report = build_report(Options(since=first, repo=str(repo.path), per_commit=per_commit))
        [row] = report.rows
        assert row.change.assessment == "みなと台市長 5"
        assert row.override is applies
        # an override that names no assessment its commit changed applies to nothing: a finding says so, as for a scope entry
        found = [f.message for f in report.findings if "the override applies to no row" in f.message]
        assert found == ([] if applies else [f"piachange.toml overrides[1]: file '6' is none of the assessments of this report's"
                                              f" rows that commit {sha[:9]} changed (a path, 評価書番号 or identity), so the"
                                              " override applies to no row here"])


def test_an_override_recorded_for_one_assessment_of_a_commit_that_changed_two_applies_to_it(repo: Repo) -> None:
    """The first assessment, which the override does not name, must not settle what the commit says for the second."""
    def version(number: str, department: str) -> str:
        return doc("juten", {"cover": {"number": number, "organization": "みなと台市長"},
                             "basic": {"department": {"name": department}}})
    repo.write("assessments/a.toml", version("5", "健康推進課"))
    repo.write("assessments/b.toml", version("6", "健康推進課"))
    first = repo.commit("初版")
    repo.write("assessments/a.toml", version("5", "健康増進課"))
    repo.write("assessments/b.toml", version("6", "健康増進課"))
    sha = repo.commit("部署名")
    repo.write("piachange.toml", f'[[overrides]]\ncommit = "{sha}"\nfile = "6"\ntiming = "事前"\nreason = "再評価と同時に提出"\n')
    rows = {r.change.assessment: r for r in build_report(Options(since=first, repo=str(repo.path))).rows}
    assert (rows["みなと台市長 5"].timing, rows["みなと台市長 5"].override) == ("事後", False)
    assert (rows["みなと台市長 6"].timing, rows["みなと台市長 6"].override, rows["みなと台市長 6"].reason) == ("事前", True, "再評価と同時に提出")


def test_a_cause_recorded_after_the_fact_in_the_configuration(repo: Repo) -> None:
    repo.write(FILE, juten("番号法第19条第7号", {}))
    first = repo.commit("初版")
    repo.write(FILE, juten("番号法第19条第8号", {}))
    sha = repo.commit("号ずれ")
    repo.write("piachange.toml", f'[[overrides]]\ncommit = "{sha}"\ncause = "法令改正"\n')
    [row] = build_report(Options(since=first, repo=str(repo.path))).rows
    assert (row.timing, row.rule, row.override) == ("事後", "cause:law", False)



def test_a_pia_reason_alone_in_a_commit_made_before_it_was_refused_is_settled_in_the_configuration(repo: Repo) -> None:
    """A shared commit cannot be changed: a statement recorded for it replaces what its PIA-Reason left unsaid."""
    repo.write(FILE, juten("番号法第19条第7号", {}))
    first = repo.commit("初版")
    repo.write(FILE, juten("番号法第19条第8号", {}))
    sha = repo.commit("号ずれ\n\nPIA-Reason: 法改正による号ずれ")
    with pytest.raises(PiaError, match=r"PIA-Reason without PIA-Timing or PIA-Cause decides nothing.*\[\[overrides\]\]"):
        build_report(Options(since=first, repo=str(repo.path)))
    repo.write("piachange.toml", f'[[overrides]]\ncommit = "{sha}"\ncause = "法令改正"\n')
    [row] = build_report(Options(since=first, repo=str(repo.path))).rows
    assert (row.timing, row.rule) == ("事後", "cause:law")


def test_an_unknown_cause_names_the_commit_and_lists_the_known_ones(repo: Repo) -> None:
    repo.write(FILE, juten("番号法第19条第7号", {}))
    first = repo.commit("初版")
    repo.write(FILE, juten("番号法第19条第8号", {}))
    sha = repo.commit("号ずれ\n\nPIA-Cause: 法律の改正")
    with pytest.raises(PiaError) as e:
        build_report(Options(since=first, repo=str(repo.path)))
    assert f"commit {sha[:9]} (号ずれ), message line 3: unknown cause '法律の改正'" in str(e.value)
    assert "法令改正, 軽微な修正, 人事異動, 組織改正" in str(e.value)


def test_a_scope_entry_that_names_nothing_is_one_line_with_its_place_said_once(
        repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    repo.write(FILE, juten("番号法第19条第7号", {}))
    first = repo.commit("初版")
    repo.write(FILE, juten("番号法第19条第8号", {}))
    sha = repo.commit("号ずれ\n\nPIA-Cause: 法令改正 (Ⅸ-9⑨)")
    code, out, err = cli(["report", "--since", first], repo.path, monkeypatch, capsys)
    assert (code, out) == (1, "")
    assert err == f"Error: PIA-Cause of commit {sha[:9]} (号ずれ), message line 3: scope entry 'Ⅸ-9⑨': no item 'Ⅸ-9⑨' in this 重点項目評価書\n"


# ---------------------------------------------------------------- classify on its own


def changes_between(form: str, before: dict[str, Any], after: dict[str, Any], message: str = "変更",
                    trailers: tuple[tuple[str, str], ...] = ()) -> list[model.Change]:
    """Return the changes of one commit between two documents (the differ, without git)."""
    old = load_bytes(doc(form, before).encode(), FILE, "a")
    new = load_bytes(doc(form, after).encode(), FILE, "b")
    commit = model.Commit("b" * 40, "山田 花子", dt.datetime(2026, 3, 16, 9, tzinfo=JST), message, trailers)
    return [dataclasses.replace(ch, commits=(commit,)) for ch in diff_documents(old, new)]


def test_explain_lists_rules_in_order_up_to_the_deciding_one() -> None:
    chs = changes_between("juten", {"basic": {"linkage": {"legal_basis": "番号法第19条第7号"}}},
                          {"basic": {"linkage": {"legal_basis": "番号法第19条第8号"}}})
    data = explain(chs, config=Config(), per_commit=False)
    [row] = data["rows"]
    ids = [r.id for r in Config().ruleset.rules]
    assert [a["rule"] for a in row["rules"]] == ids[: ids.index("law-reference-only") + 1]
    assert row["rules"][-1] == {"rule": "law-reference-only", "origin": "rules/default.toml", "matched": True,
                                "why": ["only law references differ"]}
    assert row["rules"][3] == {"rule": "cause-stated", "origin": "rules/default.toml", "matched": False,
                               "why": ["cause: no cause stated (wanted *)"]}
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data  # plain data


def test_a_catch_all_switched_off_leaves_the_safe_answer() -> None:
    config = parse_config({"rules": [{"id": "default-jigo", "enabled": False}]}, "piachange.toml")
    chs = changes_between("juten", {"disclosure": {"inquiry": {"handling": "記録する"}}},
                          {"disclosure": {"inquiry": {"handling": "記録を残す"}}})
    [row], _ = classify(chs, config=config, per_commit=False)
    assert (row.timing, row.rule) == ("事前", "no-rule")


def test_per_commit_mode_links_changes_within_a_commit_only() -> None:
    loc = {"files": {"1": {"storage": {"location": "庁舎内に保管", "erasure": "削除する"}}}}
    new = {"files": {"1": {"storage": {"location": "ガバメントクラウド上に保管", "erasure": "ガバメントクラウド上で削除する"}}}}
    chs = changes_between("zenkomoku", loc, new)
    other = dataclasses.replace(chs[1], commits=(dataclasses.replace(chs[1].commits[0], sha="c" * 40),))
    rows, _ = classify([chs[0], other], config=Config(), per_commit=True)
    assert [(r.timing, r.rule) for r in rows] == [("事前", "star-substantive"), ("事後", "default-jigo")]
    rows, _ = classify([chs[0], other], config=Config(), per_commit=False)
    assert [(r.timing, r.rule) for r in rows] == [("事前", "star-substantive"), ("事前", "accompanies-jizen")]


def test_several_causes_for_one_item_take_the_safe_one() -> None:
    chs = changes_between("juten", {"basic": {"linkage": {"legal_basis": "番号法第19条第7号"}}},
                          {"basic": {"linkage": {"legal_basis": "番号法第19条第8号"}}},
                          trailers=(("PIA-Cause", "法令改正"), ("PIA-Cause", "標準化")))
    [row], _ = classify(chs, config=Config(), per_commit=False)
    assert (row.timing, row.rule) == ("事前", "cause:standardisation")
    assert any("different causes" in w for w in row.warnings)


def test_a_cause_reason_fills_the_reason_placeholder() -> None:
    config = parse_config({"causes": [{"id": "minor", "label": "軽微な修正", "timing": "事後", "reason": "軽微な修正（{reason}）"}]},
                          "piachange.toml")
    chs = changes_between("juten", {"disclosure": {"inquiry": {"handling": "記録する"}}},
                          {"disclosure": {"inquiry": {"handling": "記録を残す"}}},
                          trailers=(("PIA-Cause", "軽微な修正"), ("PIA-Reason", "表現の統一")))
    [row], _ = classify(chs, config=config, per_commit=False)
    assert (row.timing, row.reason) == ("事後", "軽微な修正（表現の統一）")


def test_a_cause_reason_the_template_does_not_use_is_said_not_dropped_silently() -> None:
    chs = changes_between("juten", {"disclosure": {"inquiry": {"handling": "記録する"}}},
                          {"disclosure": {"inquiry": {"handling": "記録を残す"}}},
                          trailers=(("PIA-Cause", "軽微な修正"), ("PIA-Reason", "表現の統一")))
    [row], _ = classify(chs, config=Config(), per_commit=False)
    assert (row.timing, row.reason) == ("事後", "軽微な修正")  # the cause's own 説明, as configured
    assert "PIA-Reason 「表現の統一」 is not in the 説明: its template has no {reason}" in " ".join(row.warnings)


def test_kiso_threshold_finding_lists_the_assessment_required() -> None:
    chs = changes_between("kiso", {"threshold": {"population": {"count": "1万人以上10万人未満"}}},
                          {"threshold": {"population": {"count": "30万人以上"}}})
    [row], [finding] = classify(chs, config=Config(), per_commit=False)
    assert finding.severity == "error" and finding.file == FILE
    assert "a new 全項目評価 is required" in finding.message
    assert row.timing == "事後" and any("しきい値判断" in w for w in row.warnings)


def test_per_commit_threshold_warning_only_on_the_commit_that_raises() -> None:
    """One commit raises 対象人数, a later one lowers it: per commit, only the first row is warned."""
    up, = changes_between("kiso", {"threshold": {"population": {"count": "1万人以上10万人未満"}}},
                          {"threshold": {"population": {"count": "30万人以上"}}})
    down, = changes_between("kiso", {"threshold": {"population": {"count": "30万人以上"}}},
                            {"threshold": {"population": {"count": "1万人以上10万人未満"}}})
    down = dataclasses.replace(down, commits=(dataclasses.replace(down.commits[0], sha="c" * 40),))
    rows, findings = classify([up, down], config=Config(), per_commit=True)
    assert len(findings) == 1
    assert [any("しきい値判断" in w for w in r.warnings) for r in rows] == [True, False]


def test_juten_population_rising_to_a_full_assessment_row_is_a_warning() -> None:
    """A 重点項目評価書 holds 対象人数 but not 取扱者数 or 重大事故: 10万人以上30万人未満 needs a
    全項目評価 only if one of those holds, so the finding is a warning that says so."""
    chs = changes_between("juten", {"basic": {"affair": {"population": "1万人以上10万人未満"}}},
                          {"basic": {"affair": {"population": "10万人以上30万人未満"}}})
    [row], [finding] = classify(chs, config=Config(), per_commit=False)
    assert finding.severity == "warning" and finding.file == FILE
    assert "a new 全項目評価 is required" in finding.message and "取扱者数 is 500人以上" in finding.message
    assert "basic.affair.population" in finding.message
    assert any("しきい値判断" in w for w in row.warnings)


@pytest.mark.parametrize(("form", "before", "after"), [
    ("juten", "1,000人未満", "1万人以上10万人未満"),  # still within what a 重点 is for
    ("juten", "10万人以上30万人未満", "1万人以上10万人未満"),  # falling
    ("zenkomoku", "1万人以上10万人未満", "30万人以上"),  # a 全項目評価 already
])
def test_population_changes_within_the_form_raise_nothing(form: str, before: str, after: str) -> None:
    chs = changes_between(form, {"basic": {"affair": {"population": before}}}, {"basic": {"affair": {"population": after}}})
    [row], findings = classify(chs, config=Config(), per_commit=False)
    assert findings == [] and not any("しきい値判断" in w for w in row.warnings)


def test_kiso_handlers_rising_matter_only_for_some_populations() -> None:
    chs = changes_between("kiso", {"threshold": {"handlers": {"count": "500人未満"}}},
                          {"threshold": {"handlers": {"count": "500人以上"}}})
    _, [finding] = classify(chs, config=Config(), per_commit=False)
    assert finding.severity == "warning"
    assert "if 対象人数 1万人以上10万人未満" in finding.message and "重点項目評価" in finding.message


# ---------------------------------------------------------------- the one mistake users cannot afford

STAR_TEXTS = ["basic.mynumber_use.legal_basis", "files.1.acquisition.purpose", "files.1.storage.location",
              "risks.1.use.risk1.measures", "files.1.profile.subjects_scope"]
texts = st.text(alphabet="番号法第条項号別表の一二三0123456789住民基本台帳ネットワークシステム方法入手、。に基づく", min_size=1, max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(STAR_TEXTS), before=texts, after=texts)
def test_a_star_item_is_never_filed_jigo_silently(path: str, before: str, after: str) -> None:
    """Without a cause or override, a ※ change is 事前, or 事後 only with a warning that says so."""
    def tree(value: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        node = out
        parts = path.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
        return out

    if before == after:
        return
    chs = changes_between("juten", tree(before), tree(after))
    rows, _ = classify(chs, config=Config(), per_commit=False)
    for row in rows:
        assert row.change.star
        if row.timing == "事後":
            assert row.rule == "law-reference-only"
            assert any("confirm it is not a 重要な変更" in w for w in row.warnings)


def test_the_default_rules_and_causes_are_the_documented_ones() -> None:
    rs = load_config("/nonexistent").ruleset
    assert [r.id for r in rs.rules] == [
        "new-assessment", "end-of-assessment", "third-party-result", "cause-stated", "procedure-revision", "kiso-correction",
        "law-reference-only", "typo-fix", "organisation-contact", "star-instance", "star-substantive", "accompanies-jizen",
        "pure-deletion", "default-jigo",
    ]
    docs = (pathlib.Path(__file__).parent.parent / "docs" / "rules.md").read_text(encoding="utf-8")
    for r in rs.rules:
        assert f"`{r.id}`" in docs, f"rule {r.id} is not documented in docs/rules.md"
    for c in rs.causes:
        assert c.label in docs, f"cause {c.label} is not documented in docs/rules.md"
    default = tomllib.loads((pathlib.Path(__file__).parent.parent / "piachange" / "rules" / "default.toml").read_text(encoding="utf-8"))
    assert len(default["rules"]) == len(rs.rules)


def test_explain_names_the_accompanied_row_and_takes_compact_item_names(
        repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    repo.write(FILE, zen("庁舎内のサーバーに保管する。", "保存期間を過ぎた情報は削除する。"))
    first = repo.commit("初版")
    repo.write(FILE, zen("ガバメントクラウド上に保管する。", "保存期間を過ぎた情報はガバメントクラウド上で削除する。"))
    repo.commit("ガバメントクラウドへの移行\n\nPIA-Cause: システム更改 (Ⅱ-6①保管場所)")
    code, out, err = cli(["explain", "--since", first, "--item", "Ⅱ-6③"], repo.path, monkeypatch, capsys)
    assert code == 0, err
    assert "③消去方法" in out and "①保管場所\n" not in out
    assert "linked to 事前 row 「Ⅱ 特定個人情報ファイルの概要 6. 特定個人情報の保管・消去 ①保管場所」: both name ガバメントクラウド" in out
    assert "→ 事前 「システム更改に伴う変更」 (rule accompanies-jizen" in out


def test_a_scope_entry_that_names_no_changed_item_is_reported() -> None:
    chs = changes_between("juten", {"basic": {"systems": {"1": {"name": "A"}, "2": {"name": "B"}}}},
                          {"basic": {"systems": {"1": {"name": "A"}, "2": {"name": "C"}}}},
                          trailers=(("PIA-Cause", "システム更改 (basic.systems.3)"),))
    [row], [finding] = classify(chs, config=Config(), per_commit=False)
    assert row.rule == "default-jigo"
    assert "scope entry 'basic.systems.3' names no item this commit changed" in finding.message


def test_a_scope_is_resolved_in_each_assessment_the_commit_changed() -> None:
    """「Ⅱ-3③」 names files.1's ③ in an assessment with one file and files.2's in one with two,
    where only that file's changed: one commit, both rows covered (the files of one assessment
    are not taken for the files of another)."""
    commit = model.Commit("c" * 40, "山田 花子", dt.datetime(2026, 3, 16, 9, tzinfo=JST), "使用目的の補正",
                          (("PIA-Cause", "誤字脱字 (Ⅱ-3③)"),))

    def changed(file: str, number: str, files: dict[str, Any], after: dict[str, Any]) -> list[model.Change]:
        data = {"basic": {"number": number}, "files": files, "risks": {k: {} for k in files}}
        old = load_bytes(doc("juten", data).encode(), file, "a")
        new = load_bytes(doc("juten", {**data, "files": after}).encode(), file, "b")
        return [dataclasses.replace(ch, commits=(commit,)) for ch in diff_documents(old, new)]

    one = changed("assessments/kenko.toml", "1", {"1": {"name": "健康管理ファイル", "acquisition": {"purpose": "健診のため"}}},
                  {"1": {"name": "健康管理ファイル", "acquisition": {"purpose": "健診のため。"}}})
    two = changed("assessments/yobo.toml", "2",
                  {"1": {"name": "予防接種ファイル"}, "2": {"name": "副反応ファイル", "acquisition": {"purpose": "報告のため"}}},
                  {"1": {"name": "予防接種ファイル"}, "2": {"name": "副反応ファイル", "acquisition": {"purpose": "報告のため。"}}})
    assert [".".join(ch.path) for ch in one + two] == ["files.1.acquisition.purpose", "files.2.acquisition.purpose"]
    assert two[0].named == "副反応ファイル"
    rows, findings = classify(one + two, config=Config(), per_commit=True)
    assert [(r.change.item, r.timing, r.rule) for r in rows] == [
        ("Ⅱ 特定個人情報ファイルの概要 3. 特定個人情報の入手・使用 ③使用目的", "事後", "cause:minor"),
        ("Ⅱ 特定個人情報ファイルの概要 (副反応ファイル) 3. 特定個人情報の入手・使用 ③使用目的", "事後", "cause:minor"),
    ]
    assert findings == []



def test_a_scope_entry_ambiguous_in_one_assessment_fails_with_that_even_where_another_has_no_such_item() -> None:
    """A commit changed a 基礎項目評価書 (no 「Ⅱ-3③」) and both files' ③使用目的 of a 重点項目評価書:
    the error says the entry names two items there, not that the 基礎項目評価書 has no such item."""
    commit = model.Commit("c" * 40, "山田 花子", dt.datetime(2026, 3, 16, 9, tzinfo=JST), "使用目的の補正",
                          (("PIA-Cause", "誤字脱字 (Ⅱ-3③)"),))

    def changed(form: str, file: str, before: dict[str, Any], after: dict[str, Any]) -> list[model.Change]:
        old = load_bytes(doc(form, before).encode(), file, "a")
        new = load_bytes(doc(form, after).encode(), file, "b")
        return [dataclasses.replace(ch, commits=(commit,)) for ch in diff_documents(old, new)]

    kiso = changed("kiso", "assessments/a.toml", {"basic": {"inquiry_contact": "こども家庭課"}},
                   {"basic": {"inquiry_contact": "こども家庭課 電話0000-11-2503"}})
    files = {"1": {"name": "健康管理ファイル", "acquisition": {"purpose": "健診のため"}},
             "2": {"name": "予防接種ファイル", "acquisition": {"purpose": "接種のため"}}}
    after = {k: {**v, "acquisition": {"purpose": v["acquisition"]["purpose"] + "。"}} for k, v in files.items()}
    juten = changed("juten", "assessments/b.toml", {"files": files, "risks": {"1": {}, "2": {}}},
                    {"files": after, "risks": {"1": {}, "2": {}}})
    with pytest.raises(PiaError, match="'Ⅱ-3③' names 2 items"):
        classify(kiso + juten, config=Config(), per_commit=True)

@pytest.mark.parametrize("which", ["1", "2"])
def test_in_an_assessment_with_two_files_a_label_names_the_same_items_whichever_file_changed(which: str) -> None:
    """「Ⅱ 特定個人情報ファイルの概要」 is the whole of Ⅱ, every file's; a file's item is named with
    the file, as the table names it, and a label without the file names none of the two."""
    def two(days: dict[str, int]) -> dict[str, Any]:
        files = {k: {"name": n, "profile": {"held_since": dt.date(2024, 4, days.get(k, 1))}}
                 for k, n in (("1", "健康管理ファイル"), ("2", "予防接種ファイル"))}
        return {"files": files, "risks": {"1": {}, "2": {}}}

    def rows(scope: str) -> list[tuple[str, str]]:
        chs = changes_between("zenkomoku", two({}), two({which: 2}), trailers=(("PIA-Cause", f"軽微な修正 ({scope})"),))
        got, findings = classify(chs, config=Config(), per_commit=True)
        assert findings == []
        return [(r.change.item, r.rule) for r in got]

    name = {"1": "健康管理ファイル", "2": "予防接種ファイル"}[which]
    item = f"Ⅱ 特定個人情報ファイルの概要 ({name}) 2. 基本情報 ⑤保有開始日"
    assert rows("Ⅱ 特定個人情報ファイルの概要") == [(item, "cause:minor")]
    assert rows(item) == [(item, "cause:minor")]
    with pytest.raises(PiaError, match=r"no item 'Ⅱ 特定個人情報ファイルの概要 2\. 基本情報 ⑤保有開始日' in this 全項目評価書 \(did you mean"):
        rows("Ⅱ 特定個人情報ファイルの概要 2. 基本情報 ⑤保有開始日")


def test_a_timing_forced_against_the_rule_drops_the_rule_s_own_warning() -> None:
    """star-substantive warns 'filed 事前 as a 重要な変更'; a row forced 事後 says what the override did instead."""
    chs = changes_between("juten", {"files": {"1": {"acquisition": {"purpose": "健診のため"}}}},
                          {"files": {"1": {"acquisition": {"purpose": "健診及び保健指導のため"}}}},
                          trailers=(("PIA-Timing", "事後"), ("PIA-Reason", "記載漏れの補正")))
    [row], _ = classify(chs, config=Config(), per_commit=True)
    assert (row.timing, row.override) == ("事後", True)
    assert not any("filed 事前" in w for w in row.warnings), row.warnings
    assert any("files this ※ change 事後 although rule star-substantive says 事前" in w for w in row.warnings)



def test_a_row_forced_jizen_against_a_cause_drops_the_cause_s_jigo_warnings() -> None:
    """A cause files the new 委託事項 事後 and warns so; PIA-Timing: 事前 files it 事前: the row no longer
    says it was filed 事後."""
    base = {"status": "委託する", "count": 1, "items": {"1": {"title": "運用保守", "contractor": "A社", "subcontract": "再委託しない"}}}
    more = {"status": "委託する", "count": 2, "items": {"1": base["items"]["1"], "2": {"title": "入力", "contractor": "B社"}}}
    chs = changes_between("zenkomoku", {"files": {"1": {"outsourcing": base}}}, {"files": {"1": {"outsourcing": more}}},
                          trailers=(("PIA-Cause", "法令改正"), ("PIA-Timing", "事前"), ("PIA-Reason", "事前に評価を実施する")))
    rows, _ = classify(chs, config=Config(), per_commit=True)
    assert {(r.timing, r.override) for r in rows} == {("事前", True)}
    assert not any("事後" in w for r in rows for w in r.warnings), [r.warnings for r in rows]


def _moved_to_the_cloud(trailers: tuple[tuple[str, str], ...]) -> dict[str, tuple[str, str, str]]:
    """Classify a 全項目 commit moving 保管場所 (※), 消去方法 and 備考 (no ※) to one system; {item key: (timing, rule, 説明)}."""
    def files(location: str, erasure: str, remarks: str) -> dict[str, Any]:
        return {"files": {"1": {"storage": {"location": location, "erasure": erasure}, "remarks": {"text": remarks}}}}

    chs = changes_between("zenkomoku", files("庁舎内サーバー室のサーバーに保管する。", "保存期間を過ぎた情報はシステムで削除する。", ""),
                          files("ガバメントクラウド上の健康管理システムに保管する。",
                                "保存期間を過ぎた情報はガバメントクラウド上の健康管理システムで削除する。",
                                "ガバメントクラウド上の健康管理システムへ移行した。"), trailers=trailers)
    rows, _ = classify(chs, config=Config(), per_commit=True)
    return {r.change.path[-2 if r.change.path[-1] == "text" else -1]: (r.timing, r.rule, r.reason) for r in rows}


def test_a_star_change_forced_jigo_takes_no_row_with_it() -> None:
    """Rows linked to a 事前 row go with it (accompanies-jizen); a ※ row the person forced 事後 is not 事前
    in the table, so the rows linked to it are not filed 事前 on its account."""
    assert {k: v[:2] for k, v in _moved_to_the_cloud(()).items()} == {
        "location": ("事前", "star-substantive"), "erasure": ("事前", "accompanies-jizen"), "remarks": ("事前", "accompanies-jizen")}
    forced = _moved_to_the_cloud((("PIA-Timing", "事後 (Ⅱ-6①保管場所)"), ("PIA-Reason", "表記の統一のみ")))
    assert {k: v[:2] for k, v in forced.items()} == {
        "location": ("事後", "override:bbbbbbbbb"), "erasure": ("事後", "default-jigo"), "remarks": ("事後", "default-jigo")}


def test_a_change_forced_jizen_takes_its_linked_rows_with_it() -> None:
    forced = _moved_to_the_cloud((("PIA-Timing", "事前 (Ⅱ-6③消去方法)"), ("PIA-Timing", "事後 (Ⅱ-6①保管場所)"),
                                  ("PIA-Reason", "消去の方法が変わるため"), ("PIA-Reason", "表記の統一のみ")))
    assert forced["erasure"] == ("事前", "override:bbbbbbbbb", "消去の方法が変わるため")
    assert forced["remarks"] == ("事前", "accompanies-jizen", "消去の方法が変わるため")  # the 説明 of the row it goes with


# ---------------------------------------------------------------- assessments decided on their own

_JUTEN_EDITS = [  # (before, after) of single items of a 重点項目評価書: ※ and not, law-only, deletions, 対象人数
    ({"basic": {"linkage": {"legal_basis": "番号法第19条第7号"}}}, {"basic": {"linkage": {"legal_basis": "番号法第19条第8号"}}}),
    ({"basic": {"mynumber_use": {"legal_basis": "番号法第9条第1項"}}}, {"basic": {"mynumber_use": {"legal_basis": "番号法第9条第2項及び条例"}}}),
    ({"disclosure": {"inquiry": {"handling": "記録する"}}}, {"disclosure": {"inquiry": {"handling": "記録を残す"}}}),
    ({"basic": {"department": {"head_title": "健康課長"}}}, {"basic": {"department": {"head_title": ""}}}),
    ({"basic": {"affair": {"population": "1万人以上10万人未満"}}}, {"basic": {"affair": {"population": "10万人以上30万人未満"}}}),
]
_TRAILERS = [(), (("PIA-Cause", "法令改正"),), (("PIA-Cause", "軽微な修正"),), (("PIA-Cause", "法令改正 (basic.linkage.*)"),),
             (("PIA-Timing", "事後"), ("PIA-Reason", "記載漏れの補正")), (("PIA-Timing", "事前 (Ⅰ-2)"), ("PIA-Reason", "念のため"))]


def _submission(picks: list[tuple[int, int, list[int]]]) -> list[model.Change]:
    """Changes of several assessments: (assessment, edit, the commits that touched it), commits by trailer set."""
    out = []
    for a, edit, commits in picks:
        [ch] = changes_between("juten", *_JUTEN_EDITS[edit])
        shas = [model.Commit(f"{t:x}" * 40, "山田 花子", dt.datetime(2026, 3, 1 + t, 9, tzinfo=JST), f"変更 {t}", _TRAILERS[t])
                for t in sorted(set(commits))]
        out.append(dataclasses.replace(ch, assessment=f"評価書{a}", file=f"assessments/{a}.toml", commits=tuple(shas)))
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(picks=st.lists(st.tuples(st.integers(0, 2), st.integers(0, len(_JUTEN_EDITS) - 1),
                                st.lists(st.integers(0, len(_TRAILERS) - 1), min_size=1, max_size=3)),
                      min_size=1, max_size=8, unique_by=lambda p: (p[0], p[1])),
       recorded=st.booleans(), kept=st.sets(st.integers(0, 2)))
def test_assessments_decided_on_their_own_are_what_the_whole_submission_decides(
        picks: list[tuple[int, int, list[int]]], recorded: bool, kept: set[int]) -> None:
    """classify_by_assessment, with nothing kept, with the rows of some assessments kept and with
    all of them kept, gives exactly what classify gives for the whole submission."""
    from piachange.classify import classify_by_assessment

    config = parse_config({"overrides": [{"commit": "2" * 8, "timing": "事前", "reason": "記録した指定"}]}, "piachange.toml") \
        if recorded else Config()
    changes = _submission(picks)
    try:
        want = classify(changes, config=config, per_commit=False)
    except PiaError as e:
        with pytest.raises(PiaError, match=re.escape(str(e))):
            classify_by_assessment(changes, config=config, known=lambda gs: [None] * len(gs), keep=lambda g, r: None)
        return
    store: dict[str, list[model.Row]] = {}
    first = classify_by_assessment(changes, config=config, known=lambda gs: [None] * len(gs),
                                   keep=lambda g, rows: store.__setitem__(g[0].assessment, rows))
    assert first == want
    for keys in (kept, {0, 1, 2}):
        again = classify_by_assessment(changes, config=config, known=lambda gs: [
            store.get(g[0].assessment) if int(g[0].assessment[-1]) in keys else None for g in gs], keep=lambda g, rows: None)
        assert again == want
    # only assessments whose commits state plainly (no scope, no recorded override) were kept
    scoped = {f"{t:x}" * 40 for t in (3, 5)} | ({"2" * 40} if recorded else set())
    for ch in changes:
        assert (ch.assessment in store) == all(
            c.sha not in scoped for x in changes if x.assessment == ch.assessment for c in x.commits)


@pytest.mark.parametrize(("item", "path"), [("Ⅲ-1", "risks.1.file_name"), ("Ⅰ-3", "basic.file_names"), ("Ⅱ-1", "files.1.name")])
def test_explain_names_each_place_a_renamed_file_is_printed_by_its_compact_form(
        repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Any, item: str, path: str) -> None:
    sample = (pathlib.Path(__file__).parent.parent / "assessments" / "kaigo-juten.toml").read_text(encoding="utf-8")
    repo.write(FILE, sample)
    first = repo.commit("初版")
    repo.write(FILE, sample.replace('name = "介護保険情報ファイル"', 'name = "介護保険資格ファイル"', 1))
    repo.commit("特定個人情報ファイル名の変更")
    code, out, err = cli(["explain", "--since", first, "--item", item, "--format", "json"], repo.path, monkeypatch, capsys)
    assert code == 0, err
    assert [r["path"] for r in json.loads(out)["rows"]] == [path]


def test_explain_of_a_copy_no_row_is_about_says_no_rows(repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    first = third_party_repo(repo, "")
    code, out, err = cli(["explain", "--since", first, "--item", "Ⅲ-1"], repo.path, monkeypatch, capsys)
    assert code == 0, err
    assert out.endswith("\nno rows\n")
