"""The bot as a long-running service: the HTTP server, signals, reload, validated content, logging."""
