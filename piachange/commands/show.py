from __future__ import annotations

import datetime as dt
import json

import typer

from piachange.document import load_path
from piachange.resolve import resolve, value_at
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
        it = resolve(doc.form, doc.data, item)
        value = value_at(doc.data, it.path)
        if as_json:
            print(json.dumps({"path": list(it.path), "label": it.label, "value": value}, ensure_ascii=False, default=_plain, indent=2))
            return
        print(it.label)
        if it.node.is_leaf:
            print(render(it.node, value))
        else:
            print(json.dumps(value, ensure_ascii=False, default=_plain, indent=2))
