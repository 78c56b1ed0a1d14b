"""piachange: semantic change tables (変更箇所) for 特定個人情報保護評価書 kept as TOML in git."""

__version__ = "0.1.0"


def tune_collector() -> None:
    """Set the cyclic garbage collector for a process that runs one command and ends.

    What is alive now (the modules imported) is moved out of its passes, and a pass starts after
    50,000 new objects instead of 700. A report builds large structures without cycles (parsed
    versions, rows) that the default passes traversed again and again, 5-6 % of its time; the
    few cycles there are still collected. Not for a process that goes on (tests call cli.main).
    """
    import gc

    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
