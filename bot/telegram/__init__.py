"""The Telegram adapter: python-telegram-bot handlers, screens, button data, sending, the Bot API transport."""
