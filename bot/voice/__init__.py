"""Voice sessions: one server's play queue and its connection to a voice channel.

`queue` is pure state (no Discord); `session` plays it through discord.py's voice client.
Features reach voice through these, never through each other.
"""
