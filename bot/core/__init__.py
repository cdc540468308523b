"""The pure core: the rule table's data model, the conversation engine, moves and translated views. No Telegram."""
