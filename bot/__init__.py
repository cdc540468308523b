"""Maslahat: advice on Russia's Decree No. 821 for migrants, from a YAML rule table."""

from bot.core.engine import Decision, Engine, Question, Session
from bot.ruletable.loader import TableError, load_table

__all__ = ["Decision", "Engine", "Question", "Session", "TableError", "load_table"]
__version__ = "0.1.0"
