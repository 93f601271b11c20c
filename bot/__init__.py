"""The Soundverse Discord bot: the application core (settings, API client, storage, jobs, audio)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("soundverse-discord-bot")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
