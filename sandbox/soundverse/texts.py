"""Deterministic words for the local Soundverse: lyrics, song titles and assistant replies."""

from __future__ import annotations

import hashlib
import random
import re

_STOP_WORDS = frozenset({
    "a", "an", "the", "and", "or", "of", "about", "with", "for", "in", "on", "at", "to",
    "from", "by", "my", "your", "our", "is", "are", "be", "song", "music", "track", "make",
    "write", "some", "that", "this", "it", "its", "into", "over", "under",
})  # fmt: skip
_FALLBACK_THEMES = ("night", "city", "heart", "river", "summer")
_TITLE_SHAPES = (
    "{A} {B}",
    "{A} of the {B}",
    "Songs for {A}",
    "{A} After {B}",
    "The {A} Line",
    "{A} in Motion",
)
_MOOD_WORDS = {
    "happy": ("bright", "golden", "dancing", "shining", "laughing"),
    "sad": ("grey", "fading", "empty", "quiet", "broken"),
    "energetic": ("burning", "racing", "electric", "wild", "loud"),
    "calm": ("slow", "soft", "still", "gentle", "drifting"),
}
_LINE_SHAPES = (
    "I keep the {w} {t} close to me",
    "Under {w} skies we {v} again",
    "Every {t} I {v} to find my way",
    "Hold on to the {w} {t} tonight",
    "We {v} like the {t} in the rain",
    "All the {w} roads lead back to {t}",
    "Tell me why the {t} feels so {w}",
    "Counting {w} hours till we {v}",
)
_CHORUS_SHAPES = (
    "Oh {t}, {t}, don't let it go",
    "We are {w}, we are {w} and free",
    "Sing it loud for the {t} we know",
    "{T}, carry me home",
)
_VERBS = {
    "pop": ("dance", "shine", "run", "fall"),
    "rock": ("roar", "break", "burn", "ride"),
    "hip-hop": ("flow", "grind", "rise", "roll"),
}
_DEFAULT_VERBS = ("sing", "wander", "dream", "wait")
_CHAT_OPENERS = {
    "generate_music": "Here is a musical idea for",
    "extend_music": "To extend your track, keep the groove and add a new section for",
    "auto_complete_music": "To complete the song, resolve the last phrase and echo the hook of",
    "loop_audio": "For a clean loop, trim on a downbeat and repeat a bar-length phrase of",
    "separate_stems": "Stem separation can pull vocals, drums and bass apart for",
    "edit_music": "To edit it, try changing the tempo or swapping the lead sound in",
    "lyric_writing": "Here is a lyric direction for",
    "other": "Thanks for asking about",
}


def seed_of(*parts: object) -> int:
    """A stable 64-bit seed from any values (unlike hash(), it survives restarts)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def themes_of(text: str) -> list[str]:
    """The content words of a prompt, in order, without repeats."""
    seen: list[str] = []
    for word in re.findall(r"[a-zA-Z][a-zA-Z'-]+", text.lower()):
        if word not in _STOP_WORDS and word not in seen:
            seen.append(word)
    return seen or list(_FALLBACK_THEMES)


def song_title(prompt: str, seed: int) -> str:
    """A title for a generated song built from the prompt's words."""
    rng = random.Random(seed)
    words = themes_of(prompt)
    first, second = rng.choice(words), rng.choice(words + list(_FALLBACK_THEMES))
    return rng.choice(_TITLE_SHAPES).format(A=first.title(), B=second.title())


def write_lyrics(prompt: str, mood: str | None, section: str | None, genre: str | None) -> str:
    """Multi-line lyrics with [Verse]/[Chorus]/[Bridge] headers, fixed for the same input."""
    rng = random.Random(seed_of(prompt, mood, section, genre))
    themes = themes_of(prompt)
    moods = _MOOD_WORDS.get((mood or "").lower(), ("endless", "silver", "open", "wild", "warm"))
    verbs = _VERBS.get((genre or "").lower(), _DEFAULT_VERBS)

    def line(shapes: tuple[str, ...]) -> str:
        theme = rng.choice(themes)
        return rng.choice(shapes).format(
            w=rng.choice(moods), t=theme, T=theme.title(), v=rng.choice(verbs)
        )

    def verse() -> list[str]:
        return [line(_LINE_SHAPES) for _ in range(4)]

    chorus = [line(_CHORUS_SHAPES) for _ in range(2)] + [line(_LINE_SHAPES) for _ in range(2)]
    sections = {
        "verse": [("Verse", verse())],
        "chorus": [("Chorus", chorus)],
        "bridge": [("Bridge", verse()[:2])],
    }.get(
        (section or "").lower(),
        [
            ("Verse 1", verse()),
            ("Chorus", chorus),
            ("Verse 2", verse()),
            ("Chorus", chorus),
            ("Bridge", verse()[:2]),
            ("Chorus", chorus),
        ],
    )
    return "\n\n".join(f"[{name}]\n" + "\n".join(lines) for name, lines in sections)


def ai_reply(prompt: str, what: str) -> str:
    """The short comment that accompanies a generation."""
    return f'Here is your {what}, inspired by "{_short(prompt)}".'


def chat_reply(prompt: str, action: str) -> str:
    """The chat assistant's answer: its opening depends on `action`; asked for lyrics
    (`lyric_writing`), it goes on with lyrics written from the prompt, as long as those are."""
    opener = _CHAT_OPENERS.get(action, _CHAT_OPENERS["other"])
    themes = ", ".join(themes_of(prompt)[:3])
    answer = f'{opener} "{_short(prompt)}" ({action}). Focus on: {themes}.'
    if action == "lyric_writing":
        answer += "\n\n" + write_lyrics(prompt, None, None, None)
    return answer


def _short(text: str, limit: int = 80) -> str:
    """The first `limit` characters of a one-line version of `text`."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
