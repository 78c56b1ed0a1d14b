"""Assessment texts for history tests: seed 002 (呉市, 重点項目評価書) and edits of it."""

from __future__ import annotations

import copy
import tomllib
from typing import Any

from piachange.fmt import format_data
from piachange.schema import load_form

from conftest import EXAMPLE_002

BASE: dict[str, Any] = tomllib.loads(EXAMPLE_002.read_text(encoding="utf-8"))


def base(number: str = "27") -> dict[str, Any]:
    """Return a fresh copy of seed 002 with the given 評価書番号."""
    data = copy.deepcopy(BASE)
    data["cover"]["number"] = number
    return data


def text(data: dict[str, Any]) -> str:
    """Return the canonical TOML text of a document tree."""
    return format_data(load_form(data["meta"]["form"]), data)


def system(n: int) -> dict[str, Any]:
    """Return a believable システム instance."""
    return {"name": f"業務システム{n}", "functions": f"{n}. 資格管理機能", "connections": {"intra_linkage": True}}


def with_systems(count: int, number: str = "27") -> dict[str, Any]:
    """Return seed 002 with システム1…count."""
    data = base(number)
    data["basic"]["systems"] = {str(i): system(i) for i in range(1, count + 1)}
    return data
