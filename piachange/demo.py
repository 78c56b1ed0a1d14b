"""``piachange demo``: a small real git repository with a believable history of the bundled samples.

The history (dates pinned, commits carry trailers) is built from the sample assessments:

1. 2024-04-01 初版 — every sample, as it stood before the law amendment (番号法第19条第7号);
2. 2024-05-27 番号法改正 — 第19条第7号 → 第8号 everywhere (``PIA-Cause: 法令改正``);
3. 2024-10-01 標準化 — a new システム with its risk measures in the main sample (``PIA-Cause: 標準化``);
4. 2025-03-31 組織改正 — 部署 and 所属長の役職名 renamed, in effect 2025-04-01 (``PIA-Date``);
5. 2025-06-30 委託の終了 — the last 委託事項 of the main sample deleted (``PIA-Cause: リスク軽減``).

Git is run as a plain ``git`` process with a fixed identity, so the demo works without any
git configuration, and whatever the user's or the system's configuration says about line endings
or the encoding of commit messages.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Callable

from piachange.atomic import write_atomic
from piachange.document import Document, load_bytes
from piachange.errors import PiaError
from piachange.fmt import format_document

OLD_CITATION, NEW_CITATION = "第19条第7号", "第19条第8号"
AUTHOR = ("佐藤 一郎", "sato@city.minatodai.example.jp")
NEW_SYSTEM = {
    "name": "介護保険標準準拠システム",
    "functions": "地方公共団体情報システム標準化基本方針に基づき、ガバメントクラウド上で稼働する標準準拠システム。\n"
                 "1. 資格管理機能\n2. 賦課・収納管理機能\n3. 給付管理機能",
    "connections": {"intra_linkage": True, "atena": True},
}
NEW_MEASURE = "・ガバメントクラウド上の標準準拠システムへの接続は、閉域網を経由し、通信を暗号化している。"
NEW_DEPARTMENT = ("福祉部 高齢介護課", "高齢介護課長")


@dataclass(frozen=True)
class Demo:
    """The demo repository and its first commit (the report starts there)."""

    path: str
    first: str


def samples_dir() -> Path:
    """Return the bundled samples: package data in a wheel, else the source tree's assessments/."""
    packaged = resources.files("piachange").joinpath("samples")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "assessments"


def build_demo(target: str | None = None, samples: Path | None = None) -> Demo:
    """Create the demo repository in ``target`` (empty or new; default: a new temporary directory)."""
    if shutil.which("git") is None:
        raise PiaError("git is not installed: the demo builds a git repository")
    docs = _load_samples(samples or samples_dir())
    path = _prepare(target)
    main = _main_sample(docs)
    story: list[tuple[str, str, Callable[[str, dict[str, Any]], None]]] = [
        ("2024-05-27T10:00:00+09:00", "番号法改正に伴う条文番号の変更（第19条第7号 → 第8号）\n\nPIA-Cause: 法令改正",
         lambda f, d: _replace_text(d, OLD_CITATION, NEW_CITATION)),
        ("2024-10-01T14:30:00+09:00", "標準準拠システムへの移行に伴うシステムとリスク対策の追加\n\nPIA-Cause: 標準化",
         lambda f, d: _add_system(d) if f == main else None),
        ("2025-03-31T17:00:00+09:00", "組織改正に伴う部署名・所属長の役職名の変更\n\nPIA-Cause: 組織改正\nPIA-Date: 2025-04-01",
         lambda f, d: _rename_department(d) if f == main else None),
        ("2025-06-30T11:00:00+09:00", "納入通知書等の印刷・封入封かんの委託を終了し、委託事項2を削除\n\n"
         "委託の終了により委託先での取扱いがなくなるため。\n\nPIA-Cause: リスク軽減",
         lambda f, d: _drop_last_contract(d) if f == main else None),
    ]
    texts = {f: _edit(doc, lambda d: _replace_text(d, NEW_CITATION, OLD_CITATION)) for f, doc in docs.items()}
    _git(path, "-c", "init.defaultBranch=main", "init", "-q")
    first = _commit(path, texts, "2024-04-01T09:00:00+09:00", "特定個人情報保護評価書の初版を登録")
    for date, message, change in story:
        for f in texts:
            doc = load_bytes(texts[f].encode("utf-8"), f)
            texts[f] = _edit(doc, lambda d: change(f, d))
        _commit(path, texts, date, message)
    return Demo(path, first)


def _load_samples(folder: Path) -> dict[str, Document]:
    files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    if not files:
        raise PiaError(f"{folder}: no sample assessments (*.toml) found")
    return {f"assessments/{p.name}": load_bytes(p.read_bytes(), f"assessments/{p.name}") for p in files}


def _main_sample(docs: dict[str, Document]) -> str:
    """Return the sample the story edits: the first 重点項目評価書, else the first 全項目評価書."""
    for kind in ("juten", "zenkomoku"):
        for f, doc in docs.items():
            if doc.form.kind == kind:
                return f
    raise PiaError("the demo needs a 重点項目評価書 or 全項目評価書 sample")


def _prepare(target: str | None) -> str:
    if target is None:
        return tempfile.mkdtemp(prefix="piachange-demo-")
    if os.path.exists(target):
        if not os.path.isdir(target):
            raise PiaError(f"{target}: exists and is not a directory")
        if os.listdir(target):
            raise PiaError(f"{target}: not empty; the demo needs a new or empty directory")
    else:
        os.makedirs(target)
    return os.path.abspath(target)


def _edit(doc: Document, change: Callable[[dict[str, Any]], None]) -> str:
    """Return the canonical text after ``change`` edited a copy of the data (comments kept)."""
    data = copy.deepcopy(doc.data)
    change(data)
    return format_document(dataclasses.replace(doc, data=data))


def _replace_text(data: dict[str, Any], old: str, new: str) -> None:
    """Replace a citation in every text of the document except the 変更箇所 annex."""
    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return v.replace(old, new)
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        return v

    for key in [k for k in data if k not in ("meta", "changes")]:
        data[key] = walk(data[key])


def _add_system(data: dict[str, Any]) -> None:
    systems = data["basic"]["systems"]
    systems[str(max(map(int, systems)) + 1)] = copy.deepcopy(NEW_SYSTEM)
    risks = data["risks"]["1"]
    for group, risk in (("storage", "risk1"), ("use", "risk2")):
        block = risks.get(group, {}).get(risk)
        if isinstance(block, dict) and isinstance(block.get("other_measures"), str):
            block["other_measures"] = "\n".join(x for x in (block["other_measures"], NEW_MEASURE) if x)


def _rename_department(data: dict[str, Any]) -> None:
    data["basic"]["department"]["name"], data["basic"]["department"]["head_title"] = NEW_DEPARTMENT


def _drop_last_contract(data: dict[str, Any]) -> None:
    outsourcing = data["files"]["1"]["outsourcing"]
    items = outsourcing.get("items") or {}
    if len(items) < 2:
        return
    del items[str(max(map(int, items)))]
    if isinstance(outsourcing.get("count"), int):
        outsourcing["count"] = len(items)


def _commit(path: str, texts: dict[str, str], date: str, message: str) -> str:
    for f, text in texts.items():
        os.makedirs(os.path.join(path, os.path.dirname(f)), exist_ok=True)
        write_atomic(os.path.join(path, f), text, root=path)
    _git(path, "add", "-A")
    _git(path, "commit", "-q", "--no-verify", "--allow-empty", "-F", "-", date=date, stdin=message)
    return _git(path, "rev-parse", "HEAD")


def _git(path: str, *args: str, date: str = "", stdin: str | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": AUTHOR[0], "GIT_AUTHOR_EMAIL": AUTHOR[1],
           "GIT_COMMITTER_NAME": AUTHOR[0], "GIT_COMMITTER_EMAIL": AUTHOR[1]}
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    # the message is UTF-8: a global i18n.commitEncoding=cp932 (kept for old tools on Windows) would
    # record it as cp932, and the story's trailers would be unreadable
    cmd = ["git", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false", "-c", "i18n.commitEncoding=utf-8", *args]
    done = subprocess.run(cmd, cwd=path, env=env, input=(stdin or "").encode("utf-8"), capture_output=True)
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise PiaError(f"git {args[0]} failed in {path}: {err[-1] if err else done.returncode}")
    return done.stdout.decode("utf-8", "replace").strip()
