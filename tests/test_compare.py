"""Comparing versions: renamed files paired by identity, changes remembered by blob ids."""

from __future__ import annotations

import pathlib

import pytest

from piachange import model
from piachange.cache import Cache
from piachange.compare import Comparer, Version, delta, renames
from piachange.history import History
from piachange.values import Style

from conftest import Repo
from docs_factory import base, text


def version(path: str, number: str, organization: str = "みなと台市長") -> Version:
    return Version(path, "b" + path, "", "zenkomoku", number, "", organization)


def test_a_removed_and_an_added_file_of_one_identity_are_a_rename() -> None:
    olds = {"a/old.toml": version("a/old.toml", "3"), "a/other.toml": version("a/other.toml", "4")}
    news = {"a/new.toml": version("a/new.toml", "3")}
    assert renames(olds, news) == {"a/new.toml": "a/old.toml"}  # type: ignore[arg-type]


def test_a_new_organization_pairs_by_number_only_when_that_number_is_unique() -> None:
    olds = {"town.toml": version("town.toml", "3", "みなと台町長")}
    assert renames(olds, {"city.toml": version("city.toml", "3")}) == {"city.toml": "town.toml"}  # type: ignore[arg-type]
    two = {"city.toml": version("city.toml", "3"), "port.toml": version("port.toml", "3", "みなと港市長")}
    assert renames(olds, two) == {}  # type: ignore[arg-type]  # which one is the town's? neither is guessed


def test_files_without_a_number_or_unreadable_are_never_paired() -> None:
    assert renames({"a.toml": version("a.toml", "")}, {"b.toml": version("b.toml", "")}) == {}  # type: ignore[arg-type]
    assert renames({"a.toml": None}, {"b.toml": version("b.toml", "3")}) == {}


def test_delta_lists_the_files_that_differ_sorted_by_path() -> None:
    old = {"b.toml": "1", "a.toml": "2", "same.toml": "3"}
    new = {"b.toml": "9", "c.toml": "4", "same.toml": "3"}
    assert delta(old, new) == [("a.toml", "2", None), ("b.toml", "1", "9"), ("c.toml", None, "4")]


def test_changes_are_remembered_by_blob_ids_and_never_parsed_again(repo: Repo, tmp_path: pathlib.Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    data = base()
    repo.write("assessments/kenko.toml", text(data))
    repo.commit("初版")
    data["basic"]["affair"]["name"] = "健康管理事務（改）"
    repo.write("assessments/kenko.toml", text(data))
    repo.commit("事務の名称")
    found: list[list[model.Change]] = []
    for _ in range(2):
        with History(str(repo.path)) as hist:
            cache = Cache(str(tmp_path / "cache"))
            head = hist.resolve("HEAD")
            parent = hist.parent(head)
            ends = delta(hist.files(parent, ("assessments",)), hist.files(head, ("assessments",)))
            found.append(Comparer(hist, cache, Style()).diff(ends, parent, head, strict=True))
            cache.close()
        monkeypatch.setattr(History, "document", lambda *a: pytest.fail("a version was parsed again"))
    assert found[0] == found[1]
    assert [ch.path for ch in found[0]] == [("basic", "affair", "name")]
