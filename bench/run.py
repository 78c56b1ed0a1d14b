"""Time piachange against git (and tomllib) on a generated repository, side by side.

    .venv/bin/python bench/run.py                       # N=200, M=2000 (generated if missing)
    .venv/bin/python bench/run.py --small --repeat 1    # quick run
    .venv/bin/python bench/run.py --repo PATH --profile # plus a cProfile of the per-commit report

Each figure is the median of ``--repeat`` runs of a subprocess timed with perf_counter; peak
memory is the largest max RSS of the child and its children (os.wait4). Where ``perf stat`` can
count them, the user-space instructions of each run (git's included) are counted too: a
steadier comparison than time on a busy or throttled machine (``--no-perf`` skips it). "cold" runs start without any piachange cache
(files piachange created in the repository since the clone, and its XDG cache, are removed);
"warm" runs follow immediately; "incremental" runs follow one new small commit. The OS file
cache is warm for every run, git's included. Results: a table on stdout and
bench/out/results.json. The repository is cloned first, so the generated one stays unchanged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_PAGER": "cat", "PAGER": "cat"}
TOMLLIB_LOOP = (
    "import os, sys, tomllib\n"
    "n = 0\n"
    "for d, ds, fs in os.walk(sys.argv[1]):\n"
    "    ds.sort()\n"
    "    for f in sorted(fs):\n"
    "        if f.endswith('.toml'):\n"
    "            tomllib.loads(open(os.path.join(d, f), 'rb').read().decode('utf-8')); n += 1\n"
    "print(n)\n"
)


@dataclass
class Sample:
    """One timed subprocess."""

    seconds: float
    cpu: float  # user + system time of the child: steadier than wall time on a shared machine
    max_rss_mb: float
    exit: int
    out_bytes: int
    instructions: int | None = None  # user-space instructions (perf stat): steady however busy the machine is


@dataclass
class Case:
    """One line of the table: piachange vs its baseline."""

    name: str
    pia: list[Sample] = field(default_factory=list)
    base: list[Sample] = field(default_factory=list)
    base_name: str = ""
    target: str = ""
    ok: bool | None = None  # target met on wall time
    ok_cpu: bool | None = None  # target met on CPU time (user + system)
    note: str = ""

    @property
    def pia_s(self) -> float | None:
        return statistics.median(s.seconds for s in self.pia) if self.pia else None

    @property
    def base_s(self) -> float | None:
        return statistics.median(s.seconds for s in self.base) if self.base else None

    @property
    def pia_cpu(self) -> float | None:
        return statistics.median(s.cpu for s in self.pia) if self.pia else None

    @property
    def base_cpu(self) -> float | None:
        return statistics.median(s.cpu for s in self.base) if self.base else None

    @property
    def instructions_ratio(self) -> float | None:
        p = [s.instructions for s in self.pia if s.instructions]
        b = [s.instructions for s in self.base if s.instructions]
        return statistics.median(p) / statistics.median(b) if p and b and len(p) == len(self.pia) and len(b) == len(self.base) else None

    @property
    def rss(self) -> float | None:
        return max(s.max_rss_mb for s in self.pia) if self.pia else None


class Runner:
    """Runs commands in the benchmark clone and keeps its piachange cache under control."""

    def __init__(self, repo: str, code: str, count: bool = True) -> None:
        self.repo = repo
        self.perf = count and _perf_works()  # instructions are counted where perf can count them
        self.xdg = tempfile.mkdtemp(prefix="pia-bench-cache-")
        self.baseline = self.listing()
        self.env = {**os.environ, **GIT_ENV, "XDG_CACHE_HOME": self.xdg, "PYTHONPATH": code}

    def listing(self) -> set[str]:
        """Return every path in the clone except git objects (new ones are piachange's cache)."""
        out = set()
        for d, ds, fs in os.walk(self.repo):
            if os.path.relpath(d, self.repo) == os.path.join(".git", "objects"):
                ds[:] = []
            out |= {os.path.join(d, x) for x in ds + fs}
        return out

    def has_cache(self) -> bool:
        """Return whether piachange has written anything (a cache) since the clone."""
        return bool(self.listing() - self.baseline) or bool(os.listdir(self.xdg))

    def clear_cache(self) -> list[str]:
        """Remove what piachange wrote since the clone; return the paths removed."""
        gone = sorted(p for p in self.listing() - self.baseline if os.path.exists(p))
        for p in gone:
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            elif os.path.lexists(p):
                os.unlink(p)
        shutil.rmtree(self.xdg, ignore_errors=True)
        os.makedirs(self.xdg)
        return gone

    def run(self, argv: list[str]) -> Sample:
        """Run one command to completion; return its wall time, CPU time, peak memory and (with
        perf) the user-space instructions of it and its children (git's included)."""
        counts = tempfile.NamedTemporaryFile(prefix="pia-bench-perf-", delete=False) if self.perf else None
        if counts is not None:
            counts.close()
            argv = ["perf", "stat", "-x", ",", "-e", "instructions:u", "-o", counts.name, "--", *argv]
        with tempfile.TemporaryFile() as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(argv, cwd=self.repo, env=self.env, stdout=subprocess.PIPE, stderr=err)
            assert proc.stdout is not None
            n = 0
            while chunk := proc.stdout.read(1 << 20):
                n += len(chunk)
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)
            proc.stdout.close()
            if proc.returncode not in (0, 1):
                err.seek(0)
                tail = err.read()[-2000:].decode("utf-8", "replace")
                print(f"  ! {' '.join(argv[-6:])}: exit {proc.returncode}\n{tail}", file=sys.stderr)
        instructions = None
        if counts is not None:
            instructions = _instructions(counts.name)
            os.unlink(counts.name)
        return Sample(round(seconds, 4), round(usage.ru_utime + usage.ru_stime, 4), round(usage.ru_maxrss / 1024, 1), proc.returncode, n,
                      instructions)

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.repo, env=self.env, check=True, capture_output=True).stdout.decode().strip()


def _instructions(path: str) -> int | None:
    """Return the count in a ``perf stat -x ,`` output file, or None (not counted, not supported)."""
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                fields = line.split(",")
                if len(fields) > 2 and fields[2].startswith("instructions") and fields[0].isdigit():
                    return int(fields[0])
    except OSError:
        pass
    return None


def _perf_works() -> bool:
    """Return whether ``perf stat`` can count this user's instructions here."""
    with tempfile.NamedTemporaryFile(prefix="pia-bench-perf-") as out:
        try:
            subprocess.run(["perf", "stat", "-x", ",", "-e", "instructions:u", "-o", out.name, "--", "true"],
                           capture_output=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return False
        return _instructions(out.name) is not None


def snapshot(rev: str) -> tuple[str, str]:
    """Export piachange at ``rev`` to bench/out/code-<sha>, its bytecode compiled; return (directory, sha).

    The source tree changes while a long benchmark runs; every run must import the same code.
    """
    root = os.path.dirname(HERE)
    sha = subprocess.run(["git", "rev-parse", rev], cwd=root, check=True, capture_output=True).stdout.decode().strip()
    dest = os.path.join(OUT, f"code-{sha[:12]}")
    if not os.path.isdir(dest):
        tmp = dest + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        archive = subprocess.run(["git", "archive", sha, "piachange", "templates"], cwd=root, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        os.rename(tmp, dest)
    # Compiled as `pip install` compiles an installed package: with PYTHONDONTWRITEBYTECODE set (as
    # on some machines) every run would compile 40 modules from source, 60 ms a process.
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(dest, "piachange")], check=True)
    return dest, sha


def pia(*args: str) -> list[str]:
    return [sys.executable, "-m", "piachange", *args]


def report_exists(r: Runner) -> bool:
    s = subprocess.run(pia("report", "--help"), cwd=r.repo, env=r.env, capture_output=True)
    return s.returncode == 0 and b"--since" in s.stdout


def small_commit(r: Runner, k: int) -> str:
    """Append one measure line to one long text of one file and commit it (pinned date)."""
    files = sorted(p for p in r.git("ls-files", "assessments").splitlines() if p.endswith(".toml"))
    for j in range(len(files)):
        path = os.path.join(r.repo, files[(k * 7 + j) % len(files)])
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().split("\n")
        i = next((i for i, x in enumerate(lines) if x.startswith("①") and not x.endswith("'''")), None)
        if i is not None:
            break
    lines.insert(i + 1, f"・ベンチマーク追記{k}: 操作ログを週1回確認している。")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    last = int(r.git("log", "-1", "--format=%ct"))
    when = f"{last + 86400 * (k + 1)} +0900"
    env = {"GIT_AUTHOR_NAME": "山田 花子", "GIT_AUTHOR_EMAIL": "hanako@example.jp", "GIT_COMMITTER_NAME": "山田 花子",
           "GIT_COMMITTER_EMAIL": "hanako@example.jp", "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    subprocess.run(["git", "commit", "-q", "-m", f"措置の追記 {k}\n\nPIA-Cause: 軽微な修正", "--", path], cwd=r.repo,
                   env={**r.env, **env}, check=True)
    return r.git("rev-parse", "HEAD")


def measure(r: Runner, first: str, repeat: int, with_report: bool) -> list[Case]:
    """Run every case ``repeat`` times; return the cases with their samples."""
    net = ["report", "--since", first, "--format", "json"]
    per = [*net, "--per-commit"]
    git_diff = ["git", "diff", first, "HEAD", "--", "assessments/"]
    git_log = ["git", "log", "-p", f"{first}..HEAD", "--", "assessments/"]
    cases = {
        "net_cold": Case("report net, cold", base_name="git diff FIRST HEAD", target="≤ git + 2 s"),
        "per_cold": Case("report --per-commit, cold", base_name="git log -p FIRST..HEAD", target="≤ 3× git"),
        "net_warm": Case("report net, warm", base_name="git diff FIRST HEAD", target="≤ git + 2 s"),
        "per_warm": Case("report --per-commit, warm", base_name="git log -p FIRST..HEAD", target="≤ 1× git"),
        "net_incr": Case("report net, +1 commit", base_name="git diff FIRST HEAD", target="< 10% of cold"),
        "per_incr": Case("report --per-commit, +1 commit", base_name="git log -p FIRST..HEAD", target="< 10% of cold"),
        "startup": Case("startup (piachange --help)", base_name="python -c pass", target="(context)"),
        "check": Case("check (all files)", base_name="tomllib loop", target="≤ 3× tomllib"),
        "fmt": Case("fmt --check (all files)", base_name="tomllib loop", target="≤ 3× tomllib"),
    }
    tl = [sys.executable, "-c", TOMLLIB_LOOP, "assessments"]
    for k in range(repeat):
        print(f"  round {k + 1}/{repeat}", file=sys.stderr)
        cases["startup"].pia.append(r.run(pia("--help")))
        cases["startup"].base.append(r.run([sys.executable, "-c", "pass"]))
        for key, argv in (("check", pia("check")), ("fmt", pia("fmt", "--check"))):
            cases[key].pia.append(r.run(argv))
            cases[key].base.append(r.run(tl))
        for key in ("net_cold", "net_warm"):
            cases[key].base.append(r.run(git_diff))
        for key in ("per_cold", "per_warm"):
            cases[key].base.append(r.run(git_log))
        if not with_report:
            continue
        for kind, argv in (("net", net), ("per", per)):
            r.clear_cache()
            cases[f"{kind}_cold"].pia.append(r.run(pia(*argv)))
            cases[f"{kind}_warm"].pia.append(r.run(pia(*argv)))
    if with_report:
        for k in range(repeat):
            for kind, argv, base in (("per", per, git_log), ("net", net, git_diff)):
                if r.has_cache():
                    r.run(pia(*argv))  # make sure the cache is warm for HEAD
                small_commit(r, 2 * k + (kind == "net"))
                cases[f"{kind}_incr"].pia.append(r.run(pia(*argv)))
                cases[f"{kind}_incr"].base.append(r.run(base))
    judge(cases)
    return list(cases.values())


def judge(cases: dict[str, Case]) -> None:
    """Compare each case with its target, on wall time and on CPU time."""
    for key, c in cases.items():
        for attr, p, b, cold in (("ok", c.pia_s, c.base_s, "pia_s"), ("ok_cpu", c.pia_cpu, c.base_cpu, "pia_cpu")):
            if p is None or b is None:
                continue
            if key == "startup":
                continue
            if key.endswith("_incr"):
                base = getattr(cases[key.replace("incr", "cold")], cold)
                ok = base is not None and p < 0.1 * base
                if attr == "ok" and base:
                    c.note = f"{100 * p / base:.0f}% of cold"
            elif key.startswith("net"):
                ok = p <= b + 2
            elif key == "per_warm":
                ok = p <= b
            else:
                ok = p <= 3 * b
            setattr(c, attr, ok)
        if any(s.exit != 0 for s in c.pia):
            c.note = (c.note + f" exit {sorted({s.exit for s in c.pia})}").strip()


def table(cases: list[Case]) -> str:
    """Return the results as a Markdown table."""
    head = ("| case | piachange s | baseline | baseline s | ratio | CPU s (pia / base) | CPU ratio | instructions ratio | peak MB | target | met (wall / CPU) |\n"
            "|---|---:|---|---:|---:|---:|---:|---:|---:|---|---|\n")
    rows = []
    for c in cases:
        p, b = c.pia_s, c.base_s
        ps = f"{p:.2f}" if p is not None else "n/a"
        ratio = f"{p / b:.1f}×" if p is not None and b else "n/a"
        rss = f"{c.rss:.0f}" if c.rss is not None else "n/a"
        yn = {True: "yes", False: "NO", None: "n/a"}
        met = f"{yn[c.ok]} / {yn[c.ok_cpu]}" + (f" ({c.note})" if c.note else "")
        cr = f"{c.pia_cpu / c.base_cpu:.1f}×" if c.pia_cpu is not None and c.base_cpu else "n/a"
        cpu = f"{c.pia_cpu:.2f} / {c.base_cpu:.2f}" if c.pia_cpu is not None and c.base_cpu is not None else "n/a"
        bs = f"{b:.2f}" if b is not None else "n/a"
        ir = f"{c.instructions_ratio:.1f}×" if c.instructions_ratio is not None else "n/a"
        rows.append(f"| {c.name} | {ps} | {c.base_name} | {bs} | {ratio} | {cpu} | {cr} | {ir} | {rss} | {c.target} | {met} |")
    return head + "\n".join(rows) + "\n"


def profile(r: Runner, first: str) -> str:
    """Run the cold per-commit report under cProfile; return the top functions."""
    import pstats

    r.clear_cache()
    prof = os.path.join(OUT, "report-per-commit.prof")
    r.run([sys.executable, "-m", "cProfile", "-o", prof, "-m", "piachange", "report", "--since", first, "--format", "json", "--per-commit"])
    buf = []
    for key in ("cumulative", "tottime"):
        import io

        s = io.StringIO()
        pstats.Stats(prof, stream=s).strip_dirs().sort_stats(key).print_stats(30)
        buf.append(s.getvalue())
    return "\n".join(buf)


def machine() -> dict[str, Any]:
    git_v = subprocess.run(["git", "--version"], capture_output=True).stdout.decode().strip()
    return {"python": platform.python_version(), "git": git_v, "cpus": os.cpu_count(), "loadavg": os.getloadavg(),
            "platform": platform.platform(), "when": dt.datetime.now().isoformat(timespec="seconds")}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repo", help="generated repository (default: bench/out/repo-N<n>-M<m>-s<seed>, generated if missing)")
    p.add_argument("-n", type=int, default=200)
    p.add_argument("-m", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--small", action="store_true", help="N=20, M=100")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--profile", action="store_true", help="also profile the cold per-commit report (cProfile)")
    p.add_argument("--results", default=os.path.join(OUT, "results.json"))
    p.add_argument("--no-perf", action="store_true", help="do not count instructions with perf stat")
    p.add_argument("--code", default="HEAD", help="revision of piachange to time (exported, so commits during the run do not mix in)")
    a = p.parse_args(argv)
    n, m = (20, 100) if a.small else (a.n, a.m)
    repo = a.repo or os.path.join(OUT, f"repo-N{n}-M{m}-s{a.seed}")
    if not os.path.isdir(repo):
        sys.path.insert(0, HERE)
        from generate import generate

        print(f"generating {repo} …", file=sys.stderr)
        generate(repo, n, m, a.seed)
    work = os.path.join(OUT, "work-" + os.path.basename(os.path.normpath(repo)))
    shutil.rmtree(work, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", repo, work], check=True, env={**os.environ, **GIT_ENV})
    code, sha = snapshot(a.code)
    r = Runner(work, code, count=not a.no_perf)
    where = subprocess.run([sys.executable, "-c", "import piachange; print(piachange.__file__)"], cwd=work, env=r.env, capture_output=True).stdout.decode()
    if not where.startswith(code):
        raise SystemExit(f"piachange is imported from {where.strip()}, not from the snapshot {code}")
    first = r.git("rev-list", "--max-parents=0", "HEAD")
    info = {"repo": repo, "commits": int(r.git("rev-list", "--count", "HEAD")), "files": len(r.git("ls-files", "assessments").splitlines()),
            "first": first, **machine(), "piachange_commit": sha}
    with_report = report_exists(r)
    print(f"{info['files']} files, {info['commits']} commits; piachange report {'found' if with_report else 'not available yet (n/a)'}", file=sys.stderr)
    cases = measure(r, first, a.repeat, with_report)
    info["loadavg_end"] = os.getloadavg()
    out = table(cases)
    print(f"\n{info['files']} assessments, {info['commits']} commits, median of {a.repeat}, {info['cpus']} CPUs "
          f"(load {info['loadavg'][0]:.1f} → {info['loadavg_end'][0]:.1f}), {info['git']}, Python {info['python']}\n")
    print(out)
    os.makedirs(os.path.dirname(a.results), exist_ok=True)
    with open(a.results, "w", encoding="utf-8") as fh:
        json.dump({"machine": info, "cases": [{**asdict(c), "pia_median": c.pia_s, "base_median": c.base_s, "pia_cpu_median": c.pia_cpu,
                                              "base_cpu_median": c.base_cpu, "instructions_ratio": c.instructions_ratio,
                                              "peak_mb": c.rss} for c in cases]},
                  fh, ensure_ascii=False, indent=1)
    if a.profile and with_report:
        print(profile(r, first))
    shutil.rmtree(r.xdg, ignore_errors=True)


if __name__ == "__main__":
    main()
