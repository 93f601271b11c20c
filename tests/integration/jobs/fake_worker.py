"""A job worker that speaks the link protocol and nothing else, for the link's own tests.

Orders are admitted as job 100 + the order's user id, except: operation "crash" makes it
exit with code 3, "refuse" is answered with a quota refusal, "silent" is never answered.
A cancel of an even job id is answered "cancelled", of an odd one "not here", and of job
-2 never.
"""

from __future__ import annotations

import json
import socket
import sys
from typing import Any

REFUSAL = {
    "reason": "guild_limit",
    "requested": 2,
    "left": 1,
    "limit": 100,
    "reset_at": "2026-11-25T00:00:00+00:00",
}


def answer(message: dict[str, Any]) -> dict[str, Any] | None:
    if "admit" in message:
        operation = message["admit"]["operation"]
        if operation == "refuse":
            return {"refused": REFUSAL}
        if operation == "silent":
            return None
        return {"job": 100 + message["admit"]["user_id"]}
    if message["cancel"] == -2:
        return None
    return {"cancelled": message["cancel"] % 2 == 0}


def main() -> int:
    fd = int(sys.argv[sys.argv.index("--link-fd") + 1])
    link = socket.socket(fileno=fd).makefile("rwb", buffering=0)
    link.write(b'{"ready":true}\n')
    for line in link:
        message = json.loads(line)
        if message.get("admit", {}).get("operation") == "crash":
            return 3
        reply = answer(message)
        if reply is not None:
            link.write(json.dumps({"ref": message["ref"], **reply}).encode() + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
