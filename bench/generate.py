"""Build a synthetic git repository of assessments with years of realistic revisions.

    .venv/bin/python bench/generate.py                 # N=200 assessments, M=2000 commits
    .venv/bin/python bench/generate.py --small         # N=20, M=100 (CI smoke run)
    .venv/bin/python bench/generate.py -n 3 -m 10 --out /tmp/r --verify

Every version of every file is written by ``fmt.format_data`` from a tree built by walking
the form definitions, so it passes ``piachange check`` and ``piachange fmt --check``
(``--verify`` asserts both for every version written). Commits go through one
``git fast-import`` process; dates, authors and contents depend only on ``--seed``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gen_corpus as C  # noqa: E402
import gen_docs as G  # noqa: E402
import gen_edits as E  # noqa: E402

from piachange.document import load_bytes  # noqa: E402
from piachange.fmt import format_data, format_document  # noqa: E402
from piachange.schema import Form, load_form  # noqa: E402

JST = dt.timezone(dt.timedelta(hours=9))
START, END = dt.datetime(2016, 4, 1, 9, 0, tzinfo=JST), dt.datetime(2025, 12, 26, 18, 0, tzinfo=JST)
GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
KINDS = ("kiso", "juten", "zenkomoku")


@dataclass
class Assessment:
    """One file of the repository and the tree it is rendered from."""

    path: str
    ctx: G.Ctx
    form: Form
    data: dict[str, Any]
    weight: float  # how often it is revised: a few files take most of the edits
    pending: list[str] = field(default_factory=list)  # descriptions since the last 公表日


class FastImport:
    """A ``git fast-import`` process fed one commit at a time."""

    def __init__(self, repo: str) -> None:
        self.proc = subprocess.Popen(["git", "fast-import", "--quiet", "--done"], cwd=repo, stdin=subprocess.PIPE, env={**os.environ, **GIT_ENV})
        assert self.proc.stdin is not None
        self.out: BinaryIO = self.proc.stdin
        self.commits = 0

    def commit(self, when: dt.datetime, person: tuple[str, str], message: str, files: dict[str, bytes | None],
               renames: tuple[tuple[str, str], ...] = ()) -> None:
        """Write one commit: ``files`` maps path to new bytes (None = delete)."""
        name, user = person
        stamp = f"{name} <{user}@example.jp> {int(when.timestamp())} +0900\n".encode()
        w = self.out.write
        w(b"commit refs/heads/main\nauthor " + stamp + b"committer " + stamp)
        msg = message.encode()
        w(b"data %d\n%s\n" % (len(msg), msg))
        for old, new in renames:
            w(f"R {old} {new}\n".encode())
        for path, blob in files.items():
            if blob is None:
                w(f"D {path}\n".encode())
            else:
                w(f"M 100644 inline {path}\ndata {len(blob)}\n".encode() + blob + b"\n")
        w(b"\n")
        self.commits += 1

    def close(self) -> None:
        self.out.write(b"done\n")
        self.out.close()
        if self.proc.wait() != 0:
            raise SystemExit("git fast-import failed")


class History:
    """Simulates years of revisions of N assessments and writes them as M commits."""

    def __init__(self, n: int, m: int, seed: int, verify: bool) -> None:
        self.rng = random.Random(seed)
        self.n, self.m, self.verify = n, m, verify
        self.files: list[Assessment] = []
        self.laws = list(C.LAW_AMENDMENTS)
        self.renames = list(C.DEPT_RENAMES)
        self.rendered = 0
        self.wide = 0

    # ------------------------------------------------------------ documents

    def plan(self) -> list[tuple[int, str, tuple[Any, ...]]]:
        """Return (body index, file path, affair) for every assessment, in creation order."""
        n_bodies = max(1, math.ceil(self.n / 30))
        out = []
        for i in range(self.n):
            b = i % n_bodies
            affairs = C.AFFAIRS[(i // n_bodies) % len(C.AFFAIRS)]
            bslug, _, _ = self.body(b)
            stem = affairs[0] if i // n_bodies < len(C.AFFAIRS) else f"{affairs[0]}-{i // n_bodies // len(C.AFFAIRS) + 1}"
            path = f"assessments/{stem}.toml" if n_bodies == 1 else f"assessments/{bslug}/{stem}.toml"
            out.append((b, path, affairs))
        return out

    def body(self, b: int) -> tuple[str, str, str]:
        slug, name, head = C.BODIES[b % len(C.BODIES)]
        k = b // len(C.BODIES)
        if k:
            pre = "北南東西新中"[(k - 1) % 6] * ((k - 1) // 6 + 1)
            return f"{slug}{k + 1}", pre + name, pre + head
        return slug, name, head

    def new_file(self, b: int, path: str, affair: tuple[Any, ...], number: int) -> Assessment:
        slug, title, weights, law, dept, file_name = affair
        kind = self.rng.choices(KINDS, weights)[0]
        _, name, head = self.body(b)
        ctx = G.Ctx(self.rng, kind, name, head, title, law, dept, file_name, number, self.rng.uniform(0.6, 1.1))
        form = load_form(kind)
        return Assessment(path, ctx, form, G.build(ctx, form), self.rng.paretovariate(1.5))

    def render(self, a: Assessment) -> bytes:
        text = format_data(a.form, a.data)
        self.rendered += 1
        if self.verify:
            doc = load_bytes(text.encode("utf-8"), a.path)
            if format_document(doc) != text:
                raise SystemExit(f"{a.path}: generated text is not canonical")
        return text.encode("utf-8")

    # ------------------------------------------------------------ commits

    def when(self, i: int) -> dt.datetime:
        """Return the pinned date of commit ``i`` (evenly spread, office hours, increasing)."""
        span = (END - START).total_seconds()
        base = START + dt.timedelta(seconds=span * i / max(1, self.m))
        return base.replace(hour=9 + (i * 7) % 9, minute=(i * 13) % 60, second=i % 60)

    def message(self, subject: str, cause: str | None, body: str = "") -> str:
        msg = subject + ("\n\n" + body if body else "")
        if not cause:
            return msg + "\n"
        trailers = [f"PIA-Cause: {cause}"]
        if self.rng.random() < 0.05:
            trailers.append("PIA-Timing: 事後")
            trailers.append("PIA-Reason: 記載内容の明確化であり、取扱いに変更はない")
        return msg + "\n\n" + "\n".join(trailers) + "\n"

    def edit_one(self, a: Assessment, count: int) -> tuple[list[str], str]:
        """Apply ``count`` edits to one file; return descriptions and the dominant cause."""
        done, causes = [], []
        fns, weights = [e[0] for e in E.EDITS], [e[1] for e in E.EDITS]
        for _ in range(count * 3):
            if len(done) >= count:
                break
            i = self.rng.choices(range(len(fns)), weights)[0]
            desc = fns[i](a.ctx, a.form, a.data)
            if desc:
                done.append(desc)
                causes.append(E.EDITS[i][2])
        a.pending += done
        return done, max(causes, key=causes.count) if causes else "軽微な修正"  # first of the most frequent: no set order

    def normal(self, i: int) -> tuple[str, dict[str, bytes | None]]:
        r = self.rng
        k = 1 if r.random() < 0.75 else (r.randint(2, 3) if r.random() < 0.8 else r.randint(4, 8))
        targets = []
        for _ in range(k):
            a = r.choices(self.files, [f.weight for f in self.files])[0]
            if a not in targets:
                targets.append(a)
        changed, descs, cause = {}, [], "軽微な修正"
        for a in targets:
            done, cause = self.edit_one(a, r.choice((1, 1, 2, 2, 3, 5)))
            if done:
                changed[a.path] = self.render(a)
                descs += [f"{a.ctx.affair}: {d}" for d in done]
        if not descs:
            return self.message("記載の見直し", None), {}
        subject = descs[0] if len(descs) == 1 else f"{descs[0]} ほか{len(descs) - 1}件"
        body = "\n".join(f"- {d}" for d in descs) if len(descs) > 1 else ""
        return self.message(subject, cause if r.random() < 0.4 else None, body), changed

    def wide_commit(self, i: int) -> tuple[str, dict[str, bytes | None]] | None:
        """A change across many files: a law amendment, a reorganisation, a platform move."""
        r = self.rng
        choice = r.random()
        changed: dict[str, bytes | None] = {}
        if choice < 0.5 and self.laws:
            why, old, new = self.laws.pop(0)
            for a in self.files:
                _, n = E.replace_all(a.data, old, new)
                if n:
                    a.pending.append(f"{why}: {old} → {new}")
                    changed[a.path] = self.render(a)
            msg = self.message(f"{why}: 「{old}」を「{new}」に改める", "法令改正", f"{len(changed)}件の評価書に反映。")
        elif choice < 0.8 and self.renames:
            old, new = self.renames.pop(0)
            for a in self.files:
                _, n = E.replace_all(a.data, old, new)
                if n:
                    a.ctx.dept = new if a.ctx.dept == old else a.ctx.dept
                    a.pending.append(f"組織改正: {old} → {new}")
                    changed[a.path] = self.render(a)
            msg = self.message(f"組織改正: {old}を{new}に改称", "組織改正")
        else:
            share = r.uniform(0.3, 1.0)
            for a in self.files:
                if a.form.kind != "kiso" and r.random() < share and E.add_system(a.ctx, a.form, a.data, "標準準拠システム"):
                    a.pending.append("標準準拠システムへの移行")
                    changed[a.path] = self.render(a)
            msg = self.message("標準化: 標準準拠システムへの移行を反映", "標準化", "ガバメントクラウド上の標準準拠システムを追加。")
        if not changed:
            return None
        self.wide += 1
        return msg, changed

    def rename(self, a: Assessment) -> tuple[str, tuple[tuple[str, str], ...]] | None:
        """Rename a file once (its 評価書番号 stays): ``kaigo.toml`` → ``kaigo-jimu.toml``."""
        new = a.path.replace(".toml", "-jimu.toml")
        if a.path.endswith("-jimu.toml") or any(f.path == new for f in self.files):
            return None
        old, a.path = a.path, new
        return self.message(f"{a.ctx.affair}: ファイル名を変更", None), ((old, new),)

    def run(self, repo: str) -> dict[str, Any]:
        """Generate the whole history into ``repo`` (an empty directory)."""
        plan = self.plan()
        n0 = max(1, round(self.n * 0.9))
        later = dict(zip(sorted(self.rng.sample(range(2, self.m + 1), min(self.n - n0, max(0, self.m - 1)))), plan[n0:]))
        numbers: dict[int, int] = {}
        fi = FastImport(repo)
        people = C.PEOPLE
        first: dict[str, bytes | None] = {}
        for b, path, affair in plan[:n0]:
            numbers[b] = numbers.get(b, 0) + 1
            a = self.new_file(b, path, affair, numbers[b])
            self.files.append(a)
            first[a.path] = self.render(a)
        fi.commit(self.when(1), people[0], self.message("既存の評価書を取り込み", None, f"{len(first)}件の評価書を正規形式で登録。"), first)
        for i in range(2, self.m + 1):
            r = self.rng
            person = people[r.randrange(len(people))]
            renames: tuple[tuple[str, str], ...] = ()
            if i in later:
                b, path, affair = later[i]
                numbers[b] = numbers.get(b, 0) + 1
                a = self.new_file(b, path, affair, numbers[b])
                self.files.append(a)
                msg, changed = self.message(f"{a.ctx.affair}: 評価書を新規作成", "評価の再実施" if r.random() < 0.5 else None), {a.path: self.render(a)}
            elif r.random() < 0.02 and (res := self.wide_commit(i)):
                msg, changed = res
            elif r.random() < 0.08:
                a = r.choices(self.files, [f.weight for f in self.files])[0]
                E.publish(a.ctx, a.form, a.data, self.when(i).date(), a.pending)
                a.pending = []
                msg, changed = self.message(f"{a.ctx.affair}: 評価書を公表({self.when(i).date().isoformat()})", None), {a.path: self.render(a)}
            elif r.random() < 0.004 and (res := self.rename(r.choice(self.files))):
                msg, renames = res
                changed = {}
            else:
                msg, changed = self.normal(i)
            fi.commit(self.when(i), person, msg, changed, renames)
        fi.close()
        return {"files": len(self.files), "commits": fi.commits, "renders": self.rendered, "wide_commits": self.wide,
                "kinds": {k: sum(1 for f in self.files if f.form.kind == k) for k in KINDS}}


def git(repo: str, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, check=True, capture_output=True)
    return out.stdout.decode().strip()


def generate(out: str, n: int, m: int, seed: int, verify: bool = False, force: bool = False) -> dict[str, Any]:
    """Create the repository at ``out``; return a summary (also written to .git/bench.json)."""
    if os.path.exists(out):
        if not force:
            raise SystemExit(f"{out}: already exists (use --force to replace it)")
        shutil.rmtree(out)
    os.makedirs(out)
    t0 = time.perf_counter()
    git(out, "init", "-q", "-b", "main")
    summary = History(n, m, seed, verify).run(out)
    git(out, "checkout", "-q", "-f", "main")
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(out, "assessments")) for f in fs)
    summary.update(n=n, m=m, seed=seed, seconds=round(time.perf_counter() - t0, 1), head_bytes=size,
                   first=git(out, "rev-list", "--max-parents=0", "HEAD"), head=git(out, "rev-parse", "HEAD"))
    with open(os.path.join(out, ".git", "bench.json"), "w", encoding="utf-8") as fh:
        json.dump(summary, fh, ensure_ascii=False, indent=1)
    return summary


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("-n", type=int, help="number of assessments (default 200)")
    p.add_argument("-m", type=int, help="number of commits (default 2000)")
    p.add_argument("--small", action="store_true", help="CI profile: N=20, M=100")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", help="repository to create (default bench/out/repo-N<n>-M<m>-s<seed>)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--verify", action="store_true", help="check every version written (slower)")
    a = p.parse_args(argv)
    n = a.n or (20 if a.small else 200)
    m = a.m or (100 if a.small else 2000)
    out = a.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "out", f"repo-N{n}-M{m}-s{a.seed}")
    s = generate(out, n, m, a.seed, a.verify, a.force)
    print(f"{out}: {s['files']} assessments {s['kinds']}, {s['commits']} commits ({s['wide_commits']} wide), "
          f"{s['head_bytes'] / 1e6:.1f} MB at HEAD, {s['seconds']} s")


if __name__ == "__main__":
    main()
