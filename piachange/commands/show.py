from __future__ import annotations

import datetime as dt
import json

import typer

from piachange.document import load_path
from piachange.resolve import Item, resolve_printed, value_at
from piachange.schema import Form, copied_paths, lookup
from piachange.values import render


def _plain(v: object) -> object:
    return v.isoformat() if isinstance(v, dt.date) else v


def register(app: typer.Typer) -> None:
    @app.command()
    def show(
        file: str = typer.Argument(..., help="An assessment file."),
        item: str = typer.Argument(..., help="Key path, full label path or compact form (Ⅱ-3①入手元)."),
        as_json: bool = typer.Option(False, "--json", help="Print {path, label, value} as JSON."),
    ) -> None:
        """Print one item's official label and value."""
        doc = load_path(file)
        it = resolve_printed(doc.form, doc.data, item)
        if it.node.copy_of:  # a place that prints a stored item again: show what it prints, and from where
            _show_copy(doc.form, doc.data, it, as_json)
            return
        value = value_at(doc.data, it.path)
        if as_json:
            print(json.dumps({"path": list(it.path), "label": it.label, "value": value}, ensure_ascii=False, default=_plain, indent=2))
            return
        print(it.label)
        if it.node.is_leaf:
            print(render(it.node, value))
        else:
            print(json.dumps(value, ensure_ascii=False, default=_plain, indent=2))


def _show_copy(form: Form, data: dict, it: Item, as_json: bool) -> None:
    sources = copied_paths(it.node, it.path, data)
    node = form.by_path[it.node.copy_of]
    values = [lookup(data, p) for p in sources]  # None where a file has no Ⅱ of its own
    if as_json:
        value = values[0] if "*" in it.node.path else values
        print(json.dumps({"path": list(it.path), "label": it.label, "value": value, "copy_of": [".".join(p) for p in sources]},
                         ensure_ascii=False, default=_plain, indent=2))
        return
    print(it.label)
    print("\n".join(render(node, v) for v in values if v not in ("", None)))
    print(f"(printed from {', '.join('.'.join(p) for p in sources)})")
