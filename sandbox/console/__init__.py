"""The console of `python -m sandbox`: lines typed by a person or read from a script become a
member's actions on the local Discord, and what the bot does is shown as it happens.

    lines.py          parses one console line into a step
    actions.py        runs steps against the local Discord and waits for what they expect
    view.py           draws messages, their edits and components on the terminal
    voice.py          voice lines (members' moves, what the bot plays) and WAVs of what was heard
    voice_message.py  a sound file recorded as a member's voice message (Ogg Opus, waveform)
    session.py        the interactive or scripted session around a running sandbox stack
"""
