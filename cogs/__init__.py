"""The bot's features, one package per feature a member can name.

Each package holds everything Discord-facing of its feature (slash commands, message menus,
restart-proof buttons, selects and forms, follow-ups under results) and a `setup` that
loads its cog. The application loads every package listed in `bot.app.EXTENSIONS`; a test
keeps that list equal to the packages here.
"""
