"""Helpers the tests share: a fake Bot API, a Telegram user, bot processes, a redis-server, the shipped table."""
