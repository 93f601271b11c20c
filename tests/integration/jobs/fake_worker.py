"""A job worker that speaks the link protocol and nothing else, for the link's own tests.

It answers a cancel of an even job id with "cancelled" and of an odd one with "not here",
exits with code 3 when told to run job -1, and never answers a cancel of job -2.
"""

from __future__ import annotations

import json
import socket
import sys


def main() -> int:
    fd = int(sys.argv[sys.argv.index("--link-fd") + 1])
    link = socket.socket(fileno=fd).makefile("rwb", buffering=0)
    link.write(b'{"ready":true}\n')
    for line in link:
        message = json.loads(line)
        if message.get("run") == -1:
            return 3
        if "cancel" in message and message["cancel"] != -2:
            answer = {"ref": message["ref"], "cancelled": message["cancel"] % 2 == 0}
            link.write(json.dumps(answer).encode() + b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
