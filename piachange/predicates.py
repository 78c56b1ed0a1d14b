"""Text and path tests the significance rules use: law-reference masking, digits, edit size, globs."""

from __future__ import annotations

import fnmatch
import functools
import re

_DIGIT = "0-9０-９一二三四五六七八九十百千〇"
_N = f"[{_DIGIT}]+"
_HAN = "\u3400-\u4dbf\u4e00-\u9fff々〆ヶ"
_KATA = "\u30a0-\u30ffー・"
# Hiragana runs allowed inside a law name (「…における…に関する法律」); nothing verb-like, so
# 「紙媒体で入手する方法」 never becomes a law name.
_CONNECTORS = "の|に関する|における|に係る|に基づく|による|のための|するための|を識別するための|を|な"
_SUFFIXES = "法律|施行令|施行規則|法|条例|規則|指針|要綱|規程|省令|政令|府令|告示"
# Words that end like a law name but are not one (「入手方法」 is not a law).
_NOT_LAW = (
    "方法", "手法", "違法", "不法", "合法", "適法", "用法", "寸法", "療法", "技法", "文法", "製法", "工法",
    "作法", "論法", "算法", "便法", "話法", "語法", "書法", "兵法", "立法", "司法", "不規則", "変則",
)
# Terms that begin with a 号 but name people or work, not a provision: 「第1号被保険者」 and
# 「第2号被保険者」 are two populations (介護保険), 「第1号法定受託事務」 a kind of work.
_TERMS = "(?:厚生年金|国民年金)?被保険者|被扶養者|法定受託事務|事業|訪問事業|通所事業|生活支援事業|介護予防支援事業|様式"
_GO = rf"号(?!{_TERMS})"
_ARTICLE = rf"第{_N}(?:条|項|{_GO})(?:の{_N})*(?:第?{_N}(?:条|項|{_GO})(?:の{_N})*)*"
# 別表 entries, and the numbered items of an ordinance's table (「主務省令第2条の表4の項」)
_BEPPYO = rf"別表(?:第?{_N})?(?:の{_N})*(?:の項)?|表{_N}(?:の{_N})*の項"
# Runs are bounded (no law name has a 40-character run or more than 8 connectors): an unbounded
# run made every start position scan to the end of a long kanji text, quadratic in its length.
# A name never starts with 「・」: that is a bullet (「・番号法第9条」) or joins two names.
_NAME = rf"(?![・･])(?:[{_HAN}{_KATA}]{{1,40}}(?:{_CONNECTORS})){{0,8}}[{_HAN}{_KATA}]{{0,40}}?(?:{_SUFFIXES})(?=第|別表|施行|[^{_HAN}{_KATA}]|$)"
_LAW_RE = re.compile(rf"(?P<article>{_ARTICLE})|(?P<beppyo>{_BEPPYO})|(?P<name>{_NAME})")
# Every character a law reference or a placeholder can consist of: masking replaces runs of them
# with runs of them, so two texts whose other characters differ can never be equal once masked.
_LAW_CHARS = re.compile(rf"[{_DIGIT}{_HAN}{_KATA}{''.join(sorted(set(_CONNECTORS) - {'|'}))}〔〕]+")
_DIGITS_RE = re.compile(r"[0-9０-９]+(?:[,.，．][0-9０-９]+)*")
LAW_ABBREVIATIONS = ("番号法", "番号利用法")


def mask_law(text: str) -> str:
    """Return ``text`` with law references (articles, 別表 entries, law names) replaced by placeholders."""
    return _LAW_RE.sub(_law_placeholder, text)


def _law_placeholder(m: re.Match[str]) -> str:
    if m.group("article"):
        return "〔条項〕"
    if m.group("beppyo"):
        return "〔別表〕"
    name = m.group("name")
    if name not in LAW_ABBREVIATIONS and any(name.endswith(w) for w in _NOT_LAW):
        return name
    return "〔法令名〕"


def law_references(text: str) -> list[str]:
    """Return the law references found in ``text``, in order."""
    return [m.group(0) for m in _LAW_RE.finditer(text) if _law_placeholder(m) != m.group(0)]


@functools.lru_cache(maxsize=4096)
def only_law_differs(before: str, after: str) -> bool:
    """Return True when the texts differ and are equal once law references are masked (rules.md §4.1)."""
    if before == after or _LAW_CHARS.sub("", before) != _LAW_CHARS.sub("", after):
        return False  # the cheap test first: masking a long text costs a hundred times more
    return mask_law(before) == mask_law(after)


def only_digits_differ(before: str, after: str) -> bool:
    """Return True when the texts differ and are equal once runs of digits are masked."""
    return before != after and _DIGITS_RE.sub("#", before) == _DIGITS_RE.sub("#", after)


def edit_distance(a: str, b: str, limit: int) -> int:
    """Return the character edit distance of ``a`` and ``b``, or ``limit + 1`` once it exceeds ``limit``."""
    i = 0
    while i < len(a) and i < len(b) and a[i] == b[i]:
        i += 1
    a, b = a[i:], b[i:]
    j = 0
    while j < len(a) and j < len(b) and a[-1 - j] == b[-1 - j]:
        j += 1
    a, b = a[: len(a) - j], b[: len(b) - j]
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    if len(a) * len(b) > 4_000_000:  # long rewrites are never typo fixes
        return limit + 1
    prev = list(range(len(b) + 1))
    for x, ca in enumerate(a, 1):
        cur = [x] + [0] * len(b)
        for y, cb in enumerate(b, 1):
            cur[y] = min(prev[y] + 1, cur[y - 1] + 1, prev[y - 1] + (ca != cb))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return min(prev[-1], limit + 1)


def is_glob(entry: str) -> bool:
    """Return True when a scope or rule entry is a key-path glob rather than an official name."""
    return entry.isascii() and " " not in entry and bool(re.fullmatch(r"[A-Za-z0-9_*.]+", entry))


def glob_matches(glob: str, path: tuple[str, ...] | str) -> bool:
    """Return True when ``glob`` names ``path`` or one of its ancestors (``*`` = one key, ``**`` = any)."""
    parts = tuple(path.split(".")) if isinstance(path, str) else path
    return _match(tuple(glob.split(".")), parts)


def _match(pat: tuple[str, ...], path: tuple[str, ...]) -> bool:
    if not pat:
        return True  # the glob named an ancestor: everything below it is covered
    if pat[0] == "**":
        return any(_match(pat[1:], path[i:]) for i in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], pat[0]) and _match(pat[1:], path[1:])


_SYSTEM_WORDS = ("システム", "サーバー", "サーバ", "クラウド", "プラットフォーム", "ネットワーク")
_NAME_CHARS = rf"{_HAN}{_KATA}A-Za-zＡ-Ｚａ-ｚ0-9０-９"
# A name is a run of name characters up to the run's last system word, found in the reversed text:
# a pattern that starts with the words lets the regex engine skip to them, where the forward one
# ([name characters]*(?:システム|…)) tried every position of every run, quadratic in its length.
# The two find the same names because no system word lies inside another except at its start.
_SYSTEM_REVERSED_RE = re.compile(rf"(?:{'|'.join(w[::-1] for w in _SYSTEM_WORDS)})[{_NAME_CHARS}]*")
_MEASURE_RE = re.compile(r"[<＜]([^<>＜＞]{2,40}?)における(?:措置|処置)[>＞]")


def system_terms(text: str) -> set[str]:
    """Return the system and platform names a text mentions (「ガバメントクラウド」, 「中間サーバー」)."""
    # a bare 「システム」 (「①システムの名称」) names no system
    # 「・」 is a katakana character, but a name never starts with it: that is a bullet (「・中間サーバー」)
    terms = {m.group(0)[::-1].lstrip("・･") for m in _SYSTEM_REVERSED_RE.finditer(text[::-1])} - set(_SYSTEM_WORDS)
    terms |= {m.group(1) for m in _MEASURE_RE.finditer(text)}
    return terms
