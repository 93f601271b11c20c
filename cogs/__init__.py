"""Features of the bot, one module per feature: thin adapters from Discord to `bot/`."""
