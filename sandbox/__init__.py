"""Offline stand-ins for Discord and Soundverse, and `python -m sandbox` that runs the bot
against both."""
