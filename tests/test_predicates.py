"""Properties of the text tests the rules use: the quick paths give the answers of the plain definitions."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from piachange.predicates import mask_law, only_law_differs, system_terms

# pieces of law references, of words that end like law names, and of the text around them
LAW_PIECES = ("番号法", "番号利用法", "第19条", "第８号", "第二項", "の2", "別表第二", "の項", "住民基本台帳法", "施行令", "施行規則",
              "条例", "告示", "主務省令", "に基づく", "に関する", "における", "方法", "違法", "不規則", "の", "を", "な", "する",
              "事務", "情報", "カード", "ー", "・", "19", "１２", "〇", "、", "。", " ", "\n", "(", "a", "〔", "〕",
              "被保険者", "法定受託事務")
# pieces of system names, some of which overlap (ネットワーク|クラウド) or nest (サーバ|サーバー)
SYSTEM_PIECES = ("システム", "サーバー", "サーバ", "クラウド", "プラットフォーム", "ネットワーク", "ネットワークラウド", "中間",
                 "ガバメント", "住基", "ABC", "ｘ", "1", "１", "ム", "テム", "バ", "サ", "ク", "ー", "・", "の", "、", "\n",
                 "<", "＜", "における措置", ">", "＞")
# the system-name pattern as first written: a run of name characters ending in a system word
_HAN = "\u3400-\u4dbf\u4e00-\u9fff々〆ヶ"
_KATA = "\u30a0-\u30ffー・"
_FORWARD = re.compile(rf"[{_HAN}{_KATA}A-Za-zＡ-Ｚａ-ｚ0-9０-９]*(?:システム|サーバー|サーバ|クラウド|プラットフォーム|ネットワーク)")
_MEASURE = re.compile(r"[<＜]([^<>＜＞]{2,40}?)における(?:措置|処置)[>＞]")
_WORDS = {"システム", "サーバー", "サーバ", "クラウド", "プラットフォーム", "ネットワーク"}


def _texts(pieces: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(pieces), max_size=30)


@settings(max_examples=300, deadline=None)
@given(_texts(LAW_PIECES), st.integers(0, 29), st.sampled_from(LAW_PIECES))
def test_only_law_differs_is_the_masked_comparison(pieces: list[str], at: int, other: str) -> None:
    before = "".join(pieces)
    after = "".join(pieces[:at] + [other] + pieces[at + 1:])  # one piece replaced: often only a law reference
    assert only_law_differs(before, after) == (before != after and mask_law(before) == mask_law(after))


@settings(max_examples=300, deadline=None)
@given(_texts(SYSTEM_PIECES))
def test_system_terms_are_the_runs_ending_in_a_system_word(pieces: list[str]) -> None:
    text = "".join(pieces)
    expected = {m.group(0).lstrip("・") for m in _FORWARD.finditer(text)} - _WORDS  # a leading 「・」 is a bullet
    expected |= {m.group(1) for m in _MEASURE.finditer(text)}
    assert system_terms(text) == expected


def test_a_term_that_begins_with_a_go_is_no_law_reference() -> None:
    """「第1号被保険者」 and 「第2号被保険者」 are two populations (介護保険): swapping them in a ※ item such
    as 対象となる本人の範囲 is a substantive change, not a renumbered provision filed 事後."""
    assert not only_law_differs("介護保険の第1号被保険者", "介護保険の第2号被保険者")
    assert not only_law_differs("第1号法定受託事務として行う", "第2号法定受託事務として行う")
    assert not only_law_differs("第1号厚生年金被保険者", "第2号厚生年金被保険者")  # 厚生年金保険法: four kinds
    assert only_law_differs("番号法第19条第8号に基づく", "番号法第19条第9号に基づく")
    assert only_law_differs("介護保険法第9条第1号に規定する第1号被保険者", "介護保険法第9条第2号に規定する第1号被保険者")
    assert mask_law("第1号被保険者") == "第1号被保険者"
