"""The local voice server with a bare client of its protocol: members' voice relayed to a
connection, a session ended by the server (the bot moved to another channel), and the options
that serve measurements (no decoding; the kernel's receive times)."""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import nacl.bindings
import pytest

from sandbox.discord.voice import (
    DISCONNECTED,
    DISCOVERY_LENGTH,
    HOST,
    MODES,
    NONCE_SUFFIX,
    RTP_HEADER,
    VoiceServer,
    VoiceSession,
    opus_tone,
)

GUILD, CHANNEL, BOT, MEMBER = "1", "2", "3", "4"


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.received: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.received.put_nowait(data)


@dataclass
class BareClient:
    """A voice connection made by hand: the websocket, the UDP socket and the secret key."""

    ws: aiohttp.ClientWebSocketResponse
    udp: asyncio.DatagramTransport
    datagrams: _Datagrams
    key: bytes

    async def packet(self) -> bytes:
        return await asyncio.wait_for(self.datagrams.received.get(), 5)


@pytest.fixture
async def server() -> AsyncIterator[VoiceServer]:
    voice = VoiceServer()
    await voice.start()
    yield voice
    await voice.stop()


@pytest.fixture
async def make_server() -> AsyncIterator[Callable[..., Awaitable[VoiceServer]]]:
    """Started voice servers made with the given options, stopped at the end."""
    made: list[VoiceServer] = []

    async def make(**options: Any) -> VoiceServer:
        voice = VoiceServer(**options)
        await voice.start()
        made.append(voice)
        return voice

    yield make
    for voice in made:
        await voice.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def expect_bot(server: VoiceServer, token: str = "token-1") -> VoiceSession:
    """What VOICE_SERVER_UPDATE announces for the bot joining CHANNEL."""
    return server.expect(
        token=token, guild_id=GUILD, channel_id=CHANNEL, user_id=BOT, session_id="gateway"
    )


async def identify(
    server: VoiceServer, http: aiohttp.ClientSession, session: VoiceSession
) -> aiohttp.ClientWebSocketResponse:
    """Open the voice gateway and IDENTIFY; returns the socket once READY has come."""
    ws = await http.ws_connect(f"wss://{server.endpoint}/?v=8", ssl=server.client_ssl_context())
    await ws.receive_json()  # HELLO
    identity = {"server_id": GUILD, "user_id": BOT, "session_id": "gateway", "token": session.token}
    await ws.send_json({"op": 0, "d": identity})
    return ws


async def connect(
    server: VoiceServer, http: aiohttp.ClientSession, session: VoiceSession
) -> BareClient:
    """IDENTIFY, IP discovery over UDP, SELECT_PROTOCOL: a connection that can hear."""
    ws = await identify(server, http, session)
    ready = (await ws.receive_json())["d"]
    loop = asyncio.get_running_loop()
    udp, datagrams = await loop.create_datagram_endpoint(
        _Datagrams, remote_addr=(HOST, ready["port"])
    )
    udp.sendto(struct.pack(">HHI", 1, 70, ready["ssrc"]).ljust(DISCOVERY_LENGTH, b"\0"))
    discovered = await asyncio.wait_for(datagrams.received.get(), 5)
    address = discovered[8:72].rstrip(b"\0").decode()
    (port,) = struct.unpack_from(">H", discovered, 72)
    selection = {"protocol": "udp", "data": {"address": address, "port": port, "mode": MODES[0]}}
    await ws.send_json({"op": 1, "d": selection})
    description = (await ws.receive_json())["d"]
    return BareClient(ws, udp, datagrams, bytes(description["secret_key"]))


def sealed(client: BareClient, ssrc: int, opus: bytes) -> bytes:
    """One RTP packet of the bot's, sealed with its key as the `rtpsize` AEAD mode says."""
    header = struct.pack(">BBHII", 0x80, 0x78, 0, 0, ssrc)
    nonce = struct.pack(">I", 0)
    return (
        header
        + nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            opus, header, nonce.ljust(24, b"\0"), client.key
        )
        + nonce
    )


async def settled(client: BareClient, ssrc: int) -> None:
    """Once this returns, the server has read every datagram the client sent before: an IP
    discovery sent after them is answered only once they were read (in order)."""
    client.udp.sendto(struct.pack(">HHI", 1, 70, ssrc).ljust(DISCOVERY_LENGTH, b"\0"))
    await client.packet()


async def test_without_decoding_a_packet_is_kept_and_no_sound_is_made(
    make_server: Callable[..., Awaitable[VoiceServer]], http: aiohttp.ClientSession
) -> None:
    """With decode=False, a sound packet is heard (kept with its Opus) but no PCM is made."""
    server = await make_server(decode=False)
    session = expect_bot(server)
    client = await connect(server, http, session)
    frame = opus_tone(0.02)[0]
    client.udp.sendto(sealed(client, session.ssrc, frame))
    await settled(client, session.ssrc)
    client.udp.close()
    await client.ws.close()
    heard = server.heard_in(CHANNEL)
    assert ([packet.opus for packet in heard.packets], bytes(heard.pcm)) == ([frame], b"")


async def test_by_default_a_packet_is_decoded(
    server: VoiceServer, http: aiohttp.ClientSession
) -> None:
    """By default, a sound packet is decoded into PCM as it is heard."""
    session = expect_bot(server)
    client = await connect(server, http, session)
    client.udp.sendto(sealed(client, session.ssrc, opus_tone(0.02)[0]))
    await settled(client, session.ssrc)
    client.udp.close()
    await client.ws.close()
    assert len(server.heard_in(CHANNEL).pcm) > 0


async def test_kernel_timestamps_stamp_a_packet_when_it_arrived(
    make_server: Callable[..., Awaitable[VoiceServer]], http: aiohttp.ClientSession
) -> None:
    """With kernel_timestamps=True, a packet's time is the kernel's receive time: before the
    send that delivered it over loopback returned, though the loop read it only after."""
    server = await make_server(kernel_timestamps=True)
    session = expect_bot(server)
    client = await connect(server, http, session)
    client.udp.sendto(sealed(client, session.ssrc, opus_tone(0.02)[0]))
    sent = time.monotonic()
    await settled(client, session.ssrc)
    client.udp.close()
    await client.ws.close()
    (packet,) = server.heard_in(CHANNEL).packets
    assert packet.at <= sent


async def test_without_kernel_timestamps_a_packet_is_stamped_when_it_was_read(
    server: VoiceServer, http: aiohttp.ClientSession
) -> None:
    """By default, a packet's time is when the event loop read it: after the send returned."""
    session = expect_bot(server)
    client = await connect(server, http, session)
    client.udp.sendto(sealed(client, session.ssrc, opus_tone(0.02)[0]))
    sent = time.monotonic()
    await settled(client, session.ssrc)
    client.udp.close()
    await client.ws.close()
    (packet,) = server.heard_in(CHANNEL).packets
    assert packet.at > sent


async def test_a_member_speaking_reaches_the_bot_encrypted(
    server: VoiceServer, http: aiohttp.ClientSession
) -> None:
    """SPEAKING names the member's ssrc; then each Opus frame arrives in order, sealed."""
    client = await connect(server, http, expect_bot(server))
    frames = opus_tone(0.1)
    reached = await server.relay(channel_id=CHANNEL, user_id=MEMBER, opus=frames)
    speaking = (await client.ws.receive_json())["d"]
    packets = [await client.packet() for _ in frames]
    opened = [
        nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            packet[RTP_HEADER:-NONCE_SUFFIX],
            packet[:RTP_HEADER],
            packet[-NONCE_SUFFIX:].ljust(24, b"\0"),
            client.key,
        )
        for packet in packets
    ]
    headers = [struct.unpack_from(">BBHII", packet) for packet in packets]
    client.udp.close()
    await client.ws.close()
    assert (reached, speaking["user_id"], opened) == (1, MEMBER, frames)
    assert [header[2] for header in headers] == list(range(len(frames)))
    assert {header[4] for header in headers} == {speaking["ssrc"]}


async def test_an_ended_session_is_closed_with_4014(
    server: VoiceServer, http: aiohttp.ClientSession
) -> None:
    """An ended session's websocket closes with 4014; its token and its packets count no more."""
    old = expect_bot(server)
    client = await connect(server, http, old)
    new = expect_bot(server, token="token-2")
    ended = server.end(guild_id=GUILD, user_id=BOT, keep=new, close_code=DISCONNECTED)
    closed = await client.ws.receive()
    header = struct.pack(">BBHII", 0x80, 0x78, 0, 0, old.ssrc)
    nonce = struct.pack(">I", 0)
    sealed = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        opus_tone(0.02)[0], header, nonce.ljust(24, b"\0"), client.key
    )
    client.udp.sendto(header + sealed + nonce)
    again = await identify(server, http, old)
    refused = await again.receive()
    client.udp.close()
    assert (ended, closed.data, refused.data) == ([old], DISCONNECTED, 4004)
    heard = server.heard_in(CHANNEL)
    assert (heard.packets, heard.undecryptable, new.token in server.sessions) == ([], 0, True)
