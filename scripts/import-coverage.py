"""Import every seed and print how much of it lands on the form, and how much needs review.

Denominator ("in scope"): the leaf items of the form in the parts forms.md §0 says the seed
contains (repeated groups with the instances the import found; flags, the 変更箇所 table,
(別紙) tables and the (別添1) diagram image left out), minus the items whose label is printed
with an empty cell (nothing to recover). Numerator: those items that hold a value after the
import. An item whose label was never found stays in the denominator as a miss.

Run: .venv/bin/python scripts/import-coverage.py [SEEDS_DIR]
"""

from __future__ import annotations

import pathlib
import sys

from piachange.document import load_bytes
from piachange.importer import import_text
from piachange.importer.review import leaves
from piachange.schema import load_form

HERE = pathlib.Path(__file__).resolve().parent.parent
SEEDS = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "shared" / "seeds"
EXAMPLE_002 = SEEDS.parent / "domain" / "example-002.toml"

# What each seed prints (forms.md §0); prefixes of concrete paths, "-" = left out.
SCOPE = {
    "000": ["cover", "basic.reason", "basic.mynumber_use", "basic.linkage", "basic.department", "basic.other_bodies",
            "annex_affair.notes", "files.1.name", "files.1.profile", "files.1.acquisition", "files.1.outsourcing",
            "files.1.storage", "files.1.remarks", "files.1.records", "risks.1.acquisition", "risks.1.use.risk3",
            "risks.1.use.risk4", "risks.1.use.other_risks", "risks.1.outsourcing", "risks.1.provision",
            "risks.1.network.risk1", "risks.1.network.risk2", "risks.1.network.risk3", "risks.1.network.risk4",
            "risks.1.network.risk5", "risks.1.storage", "other_risk_measures", "disclosure", "procedure"],
    "001": [""],
    "002": [""],
    "003": [""],
    "004": ["cover", "basic.systems.3", "basic.systems.4", "basic.linkage", "basic.department", "basic.other_bodies",
            "annex_affair.notes", "files.1.name", "files.1.profile", "files.1.acquisition", "files.1.outsourcing",
            "files.1.storage", "files.1.remarks", "files.1.records", "risks.1.acquisition", "risks.1.use",
            "risks.1.network", "risks.1.storage", "other_risk_measures", "disclosure", "procedure"],
}
LEFT_OUT = ("changes", "attachments", "annex_affair.diagram")


def blank(kind: str, value: object) -> bool:
    """Return whether a leaf holds nothing (a checkbox group with no tick and no ( ) text is blank)."""
    if kind == "checks" and isinstance(value, dict):
        return not any(v is True or (isinstance(v, (str, int)) and not isinstance(v, bool) and v != "") for v in value.values())
    return value in ("", [], {}, None)


def in_scope(path: str, scope: list[str]) -> bool:
    if any(path == x or path.startswith(x + ".") for x in LEFT_OUT):
        return False
    return any(not x or path == x or path.startswith(x + ".") for x in scope)


def main() -> None:
    print(f"{'seed':<5} {'form':<10} {'layout':<6} {'in scope':>8} {'blank cell':>10} {'recovered':>9} {'share':>7} {'reviews':>7} {'unplaced':>8}")
    for n, scope in SCOPE.items():
        src = next(SEEDS.glob(f"{n}_*.txt"))
        result = import_text(src.read_text(encoding="utf-8"), source=src.name)
        doc = load_bytes(result.text.encode("utf-8"), src.name)
        form = load_form(result.form)
        total = filled = empty_cells = 0
        for node, path, value in leaves(form, doc.data):
            dotted = ".".join(path)
            if node.kind == "flag" or not in_scope(dotted, scope):
                continue
            if path in result.coverage.blank_cells and blank(node.kind, value):
                empty_cells += 1
                continue
            total += 1
            filled += not blank(node.kind, value)
        share = filled / total if total else 1.0
        print(f"{n:<5} {result.form:<10} {result.layout:<6} {total:>8} {empty_cells:>10} {filled:>9} {share:>7.1%} {len(result.reviews):>7} {len(result.unplaced):>8}")
        if n == "002" and EXAMPLE_002.exists():
            example = load_bytes(EXAMPLE_002.read_bytes(), str(EXAMPLE_002))
            want = {p: v for nd, p, v in leaves(form, example.data) if nd.kind != "flag" and not blank(nd.kind, v)}
            got = {p: v for _, p, v in leaves(form, doc.data)}
            same = sum(got.get(p) == v for p, v in want.items())
            print(f"      002 against example-002.toml: {same}/{len(want)} non-blank items identical")


if __name__ == "__main__":
    main()
