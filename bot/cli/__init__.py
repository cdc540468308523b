"""The `maslahat` command (``main``), the terminal conversation and the translation tools."""

from bot.cli.main import default_locales_path, default_rules_path, main

__all__ = ["default_locales_path", "default_rules_path", "main"]
