"""The receive path without Discord: RTP packets sealed as Discord seals them, SPEAKING, the
consent check before decryption, DAVE frames, and turns out, on a fake clock."""

from __future__ import annotations

import struct
from collections.abc import Callable

import davey
import discord
import nacl.bindings
import pytest

from bot.voice.receive import (
    DAVE_MARKER,
    MODES,
    SILENCE_FRAME,
    DaveFrames,
    RtpPacket,
    TransportCipher,
    TurnReader,
    UndecryptablePacket,
)
from bot.voice.turns import FRAME_SAMPLES, FRAME_SECONDS, SpeechStarted, Turn, TurnEvent
from sandbox.discord.voice import opus_frames
from tests.unit.voice.speech import speech_wav

KEY = bytes(range(32))
RTPSIZE = "aead_xchacha20_poly1305_rtpsize"
BOB, ALICE = 101, 202
BOB_SSRC, ALICE_SSRC = 5001, 5002
TOLERANCE = 0.06


def seal(
    mode: str,
    header: bytes,
    payload: bytes,
    *,
    counter: int = 0,
    extension: bytes | None = None,
) -> bytes:
    """`payload` sealed as Discord sends it in `mode`, after the 12-byte `header`; with
    `extension` (a multiple of 4 bytes), the RTP header extension carries it."""
    preamble = b""
    if extension is not None:
        header = bytes([header[0] | 0x10]) + header[1:]
        preamble = b"\xbe\xde" + struct.pack(">H", len(extension) // 4)
    body = extension or b""
    suffix = struct.pack(">I", counter)
    if mode == RTPSIZE:
        clear = header + preamble
        sealed = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            body + payload, clear, suffix + bytes(20), KEY
        )
        return clear + sealed + suffix
    plain = preamble + body + payload
    if mode == "xsalsa20_poly1305_lite":
        return header + nacl.bindings.crypto_secretbox(plain, suffix + bytes(20), KEY) + suffix
    if mode == "xsalsa20_poly1305_suffix":
        nonce = bytes(range(100, 124))
        return header + nacl.bindings.crypto_secretbox(plain, nonce, KEY) + nonce
    return header + nacl.bindings.crypto_secretbox(plain, header + bytes(12), KEY)


def rtp_header(sequence: int, timestamp: int, ssrc: int) -> bytes:
    return struct.pack(">BBHII", 0x80, 0x78, sequence, timestamp, ssrc)


class Member:
    """A member's voice as the bot's socket gets it: Opus frames in sealed RTP packets."""

    def __init__(self, ssrc: int, *, mode: str = RTPSIZE) -> None:
        self.ssrc = ssrc
        self.mode = mode
        self.sequence = 0
        self.timestamp = 0

    def packets(self, frames: list[bytes], *, skip_frames: int = 0) -> list[bytes]:
        """One packet per frame; `skip_frames` of RTP time pass first (not sent)."""
        self.timestamp += skip_frames * FRAME_SAMPLES
        sealed = []
        for frame in frames:
            header = rtp_header(self.sequence, self.timestamp, self.ssrc)
            sealed.append(seal(self.mode, header, frame, counter=self.sequence))
            self.sequence = (self.sequence + 1) & 0xFFFF
            self.timestamp = (self.timestamp + FRAME_SAMPLES) & 0xFFFFFFFF
        return sealed


class CountingCipher(TransportCipher):
    """The transport cipher, noting the ssrc of every packet it is asked to open."""

    def __init__(self, mode: str = RTPSIZE) -> None:
        super().__init__(mode, KEY)
        self.opened: list[int] = []

    def open(self, packet: RtpPacket) -> bytes:
        self.opened.append(packet.ssrc)
        return super().open(packet)


class Listening:
    """A TurnReader fed packets 20 ms apart on a fake clock (`now`)."""

    def __init__(
        self,
        allowed: set[int],
        *,
        end_to_end: Callable[[int, bytes], bytes | None] = lambda user_id, frame: frame,
        mode: str = RTPSIZE,
    ) -> None:
        self.cipher = CountingCipher(mode)
        self.reader = TurnReader(
            allowed=allowed.__contains__, transport=lambda: self.cipher, end_to_end=end_to_end
        )
        self.now = 0.0
        self.events: list[TurnEvent] = []

    def receive(self, *streams: list[bytes], burst: bool = False) -> None:
        """The streams' packets, side by side; 20 ms apart unless they come in a `burst`."""
        for index in range(max(len(stream) for stream in streams)):
            for stream in streams:
                if index < len(stream):
                    self.events += self.reader.receive(stream[index], self.now)
            if not burst:
                self.now += FRAME_SECONDS

    def speaking(self, ssrc: int, user_id: int) -> None:
        self.events += self.reader.speaking(ssrc, user_id)

    def wait(self, seconds: float) -> None:
        self.now += seconds
        self.events += self.reader.expire(self.now)

    @property
    def turns(self) -> list[Turn]:
        return [event for event in self.events if isinstance(event, Turn)]


def spoken(seconds: float, pitch: float = 140.0) -> list[bytes]:
    """Opus frames of `seconds` of speech-like sound."""
    return opus_frames(speech_wav(seconds, pitch=pitch))


# --- consent and SPEAKING ------------------------------------------------------------------


def test_a_member_not_allowed_is_dropped_before_decryption() -> None:
    """alice (not allowed) and bob talk at once: not one of alice's packets is decrypted, and
    only bob gets events."""
    listening = Listening({BOB})
    listening.speaking(BOB_SSRC, BOB)
    listening.speaking(ALICE_SSRC, ALICE)
    bob, alice = spoken(1.0), spoken(1.0, pitch=210.0)
    listening.receive(Member(BOB_SSRC).packets(bob), Member(ALICE_SSRC).packets(alice))
    listening.wait(1.0)
    assert set(listening.cipher.opened) == {BOB_SSRC} and len(listening.cipher.opened) == len(bob)
    assert listening.reader.stats.not_allowed == len(alice)
    assert {event.user_id for event in listening.events} == {BOB}


def test_packets_before_speaking_wait_for_it_unread() -> None:
    """Packets of an ssrc no SPEAKING named yet are not opened; SPEAKING then reads them."""
    listening = Listening({BOB})
    frames = spoken(1.0)
    listening.receive(Member(BOB_SSRC).packets(frames))
    unread = list(listening.cipher.opened)
    listening.speaking(BOB_SSRC, BOB)
    listening.wait(1.0)
    (turn,) = listening.turns
    assert unread == [] and len(listening.cipher.opened) == len(frames)
    assert turn.user_id == BOB and abs(turn.seconds - 1.0) < TOLERANCE


def test_waiting_packets_of_a_member_not_allowed_are_dropped_unread() -> None:
    """When SPEAKING names a member who is not allowed, their waiting packets go unopened."""
    listening = Listening({BOB})
    frames = spoken(0.5)
    listening.receive(Member(ALICE_SSRC).packets(frames))
    listening.speaking(ALICE_SSRC, ALICE)
    listening.wait(1.0)
    assert listening.cipher.opened == [] and listening.events == []
    assert listening.reader.stats.not_allowed == len(frames)


def test_speaking_names_the_member_behind_an_ssrc() -> None:
    """SPEAKING fills the ssrc -> member map; a member who leaves is taken out of it."""
    listening = Listening({BOB})
    listening.speaking(BOB_SSRC, BOB)
    listening.speaking(ALICE_SSRC, ALICE)
    named = listening.reader.speakers
    listening.reader.left(ALICE)
    assert named == {BOB_SSRC: BOB, ALICE_SSRC: ALICE}
    assert listening.reader.speakers == {BOB_SSRC: BOB}


def test_a_member_who_leaves_mid_turn_has_no_turn() -> None:
    """bob speaks and leaves before the silence ends his turn: no turn comes."""
    listening = Listening({BOB})
    listening.speaking(BOB_SSRC, BOB)
    listening.receive(Member(BOB_SSRC).packets(spoken(1.0)))
    listening.reader.left(BOB)
    listening.wait(1.0)
    assert listening.turns == []


# --- from packets to turns -----------------------------------------------------------------


def test_a_turn_comes_out_of_sealed_opus_packets() -> None:
    """1 s of speech as sealed RTP: SpeechStarted, then one turn of 1 s, 48 kHz mono."""
    listening = Listening({BOB})
    listening.speaking(BOB_SSRC, BOB)
    listening.receive(Member(BOB_SSRC).packets(spoken(1.0)))
    listening.wait(0.7)
    started, turn = listening.events
    assert isinstance(started, SpeechStarted) and isinstance(turn, Turn)
    assert turn.sample_rate == 48000 and abs(turn.seconds - 1.0) < TOLERANCE
    assert max(abs(sample) for (sample,) in struct.iter_unpack("<h", turn.pcm)) > 3000


def test_two_members_talking_at_once_get_their_own_turns() -> None:
    """bob (1 s) and alice (1.6 s) over each other: a turn each, each its own length."""
    listening = Listening({BOB, ALICE})
    listening.speaking(BOB_SSRC, BOB)
    listening.speaking(ALICE_SSRC, ALICE)
    listening.receive(
        Member(BOB_SSRC).packets(spoken(1.0)),
        Member(ALICE_SSRC).packets(spoken(1.6, pitch=210.0)),
    )
    listening.wait(1.0)
    lengths = {turn.user_id: turn.seconds for turn in listening.turns}
    assert abs(lengths[BOB] - 1.0) < TOLERANCE and abs(lengths[ALICE] - 1.6) < TOLERANCE


def test_a_gap_in_rtp_time_is_heard_as_silence() -> None:
    """0.5 s, 0.3 s not sent (the RTP timestamp jumps), 0.5 s, all arriving in one burst:
    one turn as long as the three, gap included."""
    listening = Listening({BOB})
    listening.speaking(BOB_SSRC, BOB)
    member = Member(BOB_SSRC)
    first, second = member.packets(spoken(0.5)), member.packets(spoken(0.5), skip_frames=15)
    listening.receive(first + second, burst=True)
    listening.wait(1.0)
    (turn,) = listening.turns
    assert abs(turn.seconds - 1.3) < TOLERANCE


def test_a_late_or_repeated_packet_is_dropped() -> None:
    """A packet older than one already read, or read twice, is dropped (no jitter buffer)."""
    listening = Listening({BOB})
    listening.speaking(BOB_SSRC, BOB)
    packets = Member(BOB_SSRC).packets(spoken(0.2))
    listening.receive([packets[0], packets[2], packets[1], packets[2]])
    assert listening.reader.stats.late == 2 and len(listening.cipher.opened) == 2


def test_packets_the_key_does_not_open_are_counted_and_skipped() -> None:
    """A packet with a flipped byte fails to open; the others still make the turn."""
    listening = Listening({BOB})
    listening.speaking(BOB_SSRC, BOB)
    packets = Member(BOB_SSRC).packets(spoken(1.0))
    packets[3] = packets[3][:20] + bytes([packets[3][20] ^ 1]) + packets[3][21:]
    listening.receive(packets)
    listening.wait(1.0)
    assert listening.reader.stats.undecryptable == 1 and len(listening.turns) == 1


def test_no_key_yet_means_nothing_is_read() -> None:
    """Before the connection has its key, packets of allowed members are not readable."""
    reader = TurnReader(allowed=lambda user_id: True, transport=lambda: None, end_to_end=None)  # type: ignore[arg-type]
    reader.speaking(BOB_SSRC, BOB)
    events = reader.receive(Member(BOB_SSRC).packets(spoken(0.1))[0], 0.0)
    assert events == [] and reader.stats.undecryptable == 1


# --- transport encryption ------------------------------------------------------------------


class DiscordPySender:
    """What discord.py's `_encrypt_<mode>` methods use of a voice client."""

    checked_add = discord.VoiceClient.checked_add

    def __init__(self) -> None:
        self.secret_key = list(KEY)
        self._incr_nonce = 7


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_opens_what_discord_py_seals(mode: str) -> None:
    """discord.py's own sender code seals a frame in every mode it offers; the cipher of that
    mode opens it back to the frame."""
    header = rtp_header(42, 960 * 42, BOB_SSRC)
    sealed = getattr(discord.VoiceClient, f"_encrypt_{mode}")(DiscordPySender(), header, b"opus")
    packet = RtpPacket.parse(sealed)
    assert packet is not None and TransportCipher(mode, KEY).open(packet) == b"opus"


@pytest.mark.parametrize("mode", MODES)
def test_the_rtp_header_extension_is_skipped(mode: str) -> None:
    """With an RTP header extension (in clear or sealed, as the mode says), what is opened is
    the frame alone."""
    extension = b"\x10\xff\x00\x00" + b"\x90\x01\x00\x00"  # audio level, speaking state
    sealed = seal(mode, rtp_header(1, 960, BOB_SSRC), b"opus frame", extension=extension)
    packet = RtpPacket.parse(sealed)
    assert packet is not None and packet.extended
    assert TransportCipher(mode, KEY).open(packet) == b"opus frame"


def test_a_packet_sealed_with_another_key_does_not_open() -> None:
    """Another connection's key: UndecryptablePacket, not garbage."""
    packet = RtpPacket.parse(seal(RTPSIZE, rtp_header(1, 960, BOB_SSRC), b"opus"))
    assert packet is not None
    with pytest.raises(UndecryptablePacket):
        TransportCipher(RTPSIZE, bytes(32)).open(packet)


@pytest.mark.parametrize(
    "datagram",
    [
        struct.pack(">BBHI", 0x80, 200, 6, BOB_SSRC) + bytes(20),  # RTCP sender report
        struct.pack(">HHI", 2, 70, BOB_SSRC) + bytes(66),  # IP discovery answer
        rtp_header(1, 960, BOB_SSRC)[:1] + bytes([101]) + rtp_header(1, 960, BOB_SSRC)[2:],
        b"\x80\x78",  # too short
    ],
    ids=["rtcp", "ip-discovery", "video", "short"],
)
def test_what_is_not_opus_rtp_is_ignored(datagram: bytes) -> None:
    """RTCP, IP discovery, another payload type, scraps: not packets of the receive path."""
    assert RtpPacket.parse(datagram) is None


# --- DAVE ----------------------------------------------------------------------------------


class FakeDaveSession:
    """Stands in for `davey.DaveSession`: `decrypt` takes off a fake DAVE trailer."""

    def __init__(self, *, ready: bool = True, fails: bool = False) -> None:
        self.ready = ready
        self.fails = fails
        self.calls: list[tuple[int, davey.MediaType, bytes]] = []

    def decrypt(self, user_id: int, media_type: davey.MediaType, packet: bytes) -> bytes:
        self.calls.append((user_id, media_type, packet))
        if self.fails:
            raise ValueError("Failed to decrypt: NoDecryptorForUser")
        return packet.removesuffix(b"\x07" + DAVE_MARKER)


def dave_frame(opus: bytes) -> bytes:
    """`opus` dressed as a DAVE-encrypted frame (it ends with the marker)."""
    return opus + b"\x07" + DAVE_MARKER


def test_without_dave_the_frame_is_taken_as_it_is() -> None:
    """Protocol version 0 (as on the local voice server): no DAVE decryption at all."""
    session = FakeDaveSession()
    frames = DaveFrames(lambda: (0, session))
    assert frames.open(BOB, b"opus") == b"opus" and session.calls == []


def test_with_dave_the_connection_session_decrypts_for_the_member() -> None:
    """Protocol version 1 and a ready session: decrypt(member, audio, frame) gives the Opus."""
    session = FakeDaveSession()
    frames = DaveFrames(lambda: (1, session))
    assert frames.open(BOB, dave_frame(b"opus")) == b"opus"
    assert session.calls == [(BOB, davey.MediaType.audio, dave_frame(b"opus"))]


def test_before_the_group_is_ready_passthrough_frames_are_taken_as_they_are() -> None:
    """No group keys yet: an unencrypted (passthrough) frame is read as it is, an encrypted
    one is lost, and the session is not asked."""
    session = FakeDaveSession(ready=False)
    frames = DaveFrames(lambda: (1, session))
    assert frames.open(BOB, b"opus") == b"opus"
    assert frames.open(BOB, dave_frame(b"opus")) is None and session.calls == []


def test_silence_frames_are_never_decrypted() -> None:
    """DAVE leaves Opus silence frames unencrypted; they are taken as they are."""
    session = FakeDaveSession()
    assert DaveFrames(lambda: (1, session)).open(BOB, SILENCE_FRAME) == SILENCE_FRAME
    assert session.calls == []


def test_a_frame_dave_cannot_decrypt_is_lost() -> None:
    """The session refuses (no key for that member yet): the frame is lost, not passed on."""
    frames = DaveFrames(lambda: (1, FakeDaveSession(fails=True)))
    assert frames.open(BOB, dave_frame(b"opus")) is None


def test_dave_frames_become_a_turn_after_the_transport_is_opened() -> None:
    """DAVE frames inside sealed RTP: transport first, then DAVE, then Opus: one turn."""
    session = FakeDaveSession()
    listening = Listening({BOB}, end_to_end=DaveFrames(lambda: (1, session)).open)
    listening.speaking(BOB_SSRC, BOB)
    frames = spoken(1.0)
    listening.receive(Member(BOB_SSRC).packets([dave_frame(frame) for frame in frames]))
    listening.wait(1.0)
    (turn,) = listening.turns
    assert len(session.calls) == len(frames) and abs(turn.seconds - 1.0) < TOLERANCE


def test_lost_dave_frames_are_counted() -> None:
    """Frames the session cannot decrypt are counted and make no turn."""
    listening = Listening(
        {BOB}, end_to_end=DaveFrames(lambda: (1, FakeDaveSession(fails=True))).open
    )
    listening.speaking(BOB_SSRC, BOB)
    frames = spoken(0.5)
    listening.receive(Member(BOB_SSRC).packets([dave_frame(frame) for frame in frames]))
    listening.wait(1.0)
    assert listening.reader.stats.end_to_end_lost == len(frames) and listening.events == []


def test_discord_py_s_dave_session_before_its_group_passes_frames_through() -> None:
    """A real davey session as discord.py makes it, with no MLS group yet (none can be made
    offline): passthrough frames are read as they are, encrypted ones are lost."""
    session = davey.DaveSession(davey.DAVE_PROTOCOL_VERSION, BOB, 9000)
    frames = DaveFrames(lambda: (davey.DAVE_PROTOCOL_VERSION, session))
    assert not session.ready
    assert frames.open(ALICE, b"opus") == b"opus"
    assert frames.open(ALICE, dave_frame(b"opus")) is None


def test_davey_refuses_a_member_it_has_no_key_for_with_value_error() -> None:
    """What DaveFrames catches: davey raises ValueError when it cannot decrypt a frame."""
    session = davey.DaveSession(davey.DAVE_PROTOCOL_VERSION, BOB, 9000)
    with pytest.raises(ValueError, match="NoDecryptorForUser"):
        session.decrypt(ALICE, davey.MediaType.audio, dave_frame(b"opus"))
