"""piachange: semantic change tables (変更箇所) for 特定個人情報保護評価書 kept as TOML in git."""

__version__ = "0.1.0"
