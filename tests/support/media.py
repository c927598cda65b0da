"""Test recordings: AMR-NB phone audio (Debian's ffmpeg cannot encode AMR; PyAV's FFmpeg can)."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import av
import numpy as np

AMR_RATE = 8000


def write_amr(path: Path, samples: np.ndarray) -> None:
    """Encode int16 mono samples at 8 kHz as an AMR-NB file (12.2 kbit/s, like a phone)."""
    with av.open(str(path), "w", format="amr") as out:
        stream = out.add_stream("libopencore_amrnb", rate=AMR_RATE)
        stream.layout = "mono"
        stream.bit_rate = 12200
        for i in range(0, len(samples), 160):
            frame = av.AudioFrame.from_ndarray(samples[None, i : i + 160], format="s16", layout="mono")
            frame.sample_rate = AMR_RATE
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def run_tool(*args: str) -> None:
    """Run a media tool (espeak-ng, sox, ffmpeg), failing loudly."""
    subprocess.run(list(args), check=True, timeout=120, capture_output=True)


def speech_wav(path: Path, pinyin: str) -> None:
    """Mandarin speech from pinyin (espeak-ng), as 16 kHz mono WAV, the same bytes every time:
    sox dithers with random noise when it resamples unless told not to (-D), and what Whisper
    hears in this robotic voice changes with that noise."""
    raw = path.with_suffix(".raw.wav")
    run_tool("espeak-ng", "-v", "cmn-latn-pinyin", "-s", "120", "-w", str(raw), pinyin)
    run_tool("sox", "-D", str(raw), "-r", "16000", "-c", "1", str(path))
    raw.unlink()


def silence_wav(path: Path, seconds: float) -> None:
    """``seconds`` of silence, 16 kHz mono WAV."""
    run_tool("sox", "-n", "-r", "16000", "-c", "1", str(path), "trim", "0", str(seconds))


def still_image(path: Path, source: str = "testsrc") -> None:
    """One 240×240 picture from an FFmpeg test source (JPEG or PNG by the suffix): cover art."""
    run_tool(
        "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"{source}=size=240x240:duration=1",
        "-frames:v", "1", str(path),
    )  # fmt: skip


def m4a_with_covers(path: Path, wav: Path, covers: list[Path], alternate: Path | None = None) -> None:
    """``wav`` as AAC in an .m4a with ``covers`` embedded as its pictures: FFmpeg writes each
    attached picture as an iTunes ``covr`` image, read back as an attached_pic video stream.
    ``alternate``: a disabled audio track put before the speech (the speech's track is enabled)."""
    sounds = [alternate, wav] if alternate else [wav]
    args = ["ffmpeg", "-v", "error", "-y"]
    for src in [*sounds, *covers]:
        args += ["-i", str(src)]
    for n in range(len(sounds) + len(covers)):
        args += ["-map", str(n)]
    args += ["-c:a", "aac", "-c:v", "copy", "-disposition:v", "attached_pic"]
    if alternate:
        args += ["-disposition:a:0", "0", "-disposition:a:1", "default"]
    run_tool(*args, str(path))


# MP4 boxes that hold boxes, with the number of bytes that come before the first child
BOX_HOLDERS: dict[bytes, int] = {
    **dict.fromkeys((b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"dinf", b"edts"), 0),
    **dict.fromkeys((b"ilst", b"sinf", b"schi"), 0),
    b"meta": 4,  # version and flags
    b"stsd": 8,  # version, flags, entry count
    **dict.fromkeys((b"mp4a", b"enca", b"drms"), 28),  # audio sample entry (version 0)
}


class Box:
    """One ISO-BMFF (MP4) box: its type, the bytes before its children (or all its bytes, for a
    box that is not parsed further), and its children."""

    def __init__(self, kind: bytes, head: bytes, children: list[Box] | None = None) -> None:
        self.kind, self.head, self.children = kind, head, children

    def find(self, *path: bytes) -> Box:
        """The first descendant along ``path`` of box types; KeyError if there is none."""
        box: Box = self
        for kind in path:
            box = next(b for b in box.children or [] if b.kind == kind)
        return box

    def to_bytes(self) -> bytes:
        body = self.head + b"".join(c.to_bytes() for c in self.children or [])
        return struct.pack(">I4s", 8 + len(body), self.kind) + body


def mp4_boxes(data: bytes) -> Box:
    """The box tree of an MP4 file (32-bit box sizes), under a root box of type ``root``."""

    def parse(data: bytes) -> list[Box]:
        out, at = [], 0
        while at + 8 <= len(data):
            size, kind = struct.unpack(">I4s", data[at : at + 8])
            body = data[at + 8 : at + size]
            skip = BOX_HOLDERS.get(kind)
            out.append(Box(kind, body) if skip is None else Box(kind, body[:skip], parse(body[skip:])))
            at += size
        return out

    return Box(b"root", b"", parse(data))


def mp4_file(root: Box) -> bytes:
    """The bytes of the tree ``mp4_boxes`` read (the root's children, one after another)."""
    return b"".join(c.to_bytes() for c in root.children or [])


AUDIO_ENTRY = (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd")


def metadata_only_mp4(path: Path, title: str, created: str, comment: str) -> None:
    """An .mp4 with its title, creation time and comment but no track at all: FFmpeg writes a
    second of silence with these tags, and the track and the media data are taken out."""
    made = path.with_suffix(".src.mp4")
    run_tool(
        "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "1",
        "-c:a", "aac", "-metadata", f"title={title}", "-metadata", f"creation_time={created}",
        "-metadata", f"comment={comment}", str(made),
    )  # fmt: skip
    root = mp4_boxes(made.read_bytes())
    made.unlink()
    moov = root.find(b"moov")
    moov.children = [b for b in moov.children or [] if b.kind != b"trak"]
    root.children = [b for b in root.children or [] if b.kind != b"mdat"]
    path.write_bytes(mp4_file(root))


def cenc_m4a(path: Path, wav: Path) -> None:
    """``wav`` as AAC in an .m4a encrypted with Common Encryption (cenc, AES-CTR) by FFmpeg: the
    sample entry is ``enca`` with a ``sinf`` (frma, schm "cenc", schi/tenc); the key is not kept."""
    run_tool(
        "ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "aac",
        "-encryption_scheme", "cenc-aes-ctr", "-encryption_key", "00112233445566778899aabbccddeeff",
        "-encryption_kid", "0123456789abcdef0123456789abcdef", str(path),
    )  # fmt: skip


def fairplay_m4a(path: Path, wav: Path) -> None:
    """An encrypted .m4a laid out as Apple's FairPlay: a ``drms`` sample entry whose ``sinf``
    names the scheme "itun" and holds FairPlay's user, key, IV and private boxes, not cenc's
    ``tenc``; no per-sample encryption boxes. Made from a cenc file, so the samples really are
    encrypted, but FFmpeg no longer knows it: it hands them to the AAC decoder as they are."""
    cenc_m4a(path, wav)
    root = mp4_boxes(path.read_bytes())
    entry = root.find(*AUDIO_ENTRY, b"enca")
    entry.kind = b"drms"
    schm = entry.find(b"sinf", b"schm")
    schm.head = schm.head[:4] + b"itun" + schm.head[8:]  # version/flags, scheme type, version
    entry.find(b"sinf", b"schi").children = [
        Box(b"user", struct.pack(">I", 0x2F1E0D11)),
        Box(b"key ", struct.pack(">I", 1)),
        Box(b"iviv", bytes(range(16))),
        Box(b"priv", bytes(64)),
    ]
    stbl = root.find(*AUDIO_ENTRY[:-1])
    stbl.children = [b for b in stbl.children or [] if b.kind not in (b"senc", b"saiz", b"saio")]
    path.write_bytes(mp4_file(root))


def renamed_fairplay_m4a(path: Path, wav: Path) -> None:
    """A FairPlay .m4a (fairplay_m4a) whose sample entry was renamed back to ``mp4a`` (as tools
    that try to "unlock" such files do): only the ``sinf`` box still says it is encrypted."""
    fairplay_m4a(path, wav)
    root = mp4_boxes(path.read_bytes())
    root.find(*AUDIO_ENTRY, b"drms").kind = b"mp4a"
    path.write_bytes(mp4_file(root))


def bare_enca_m4a(path: Path, wav: Path) -> None:
    """An .m4a whose sample entry says ``enca`` (encrypted audio) with neither its protection
    box nor its decoder configuration (esds): FFmpeg finds no decoder for the track."""
    run_tool("ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "aac", str(path))
    root = mp4_boxes(path.read_bytes())
    entry = root.find(*AUDIO_ENTRY, b"mp4a")
    entry.kind, entry.children = b"enca", [b for b in entry.children or [] if b.kind != b"esds"]
    path.write_bytes(mp4_file(root))


def covers_first_with_esds_flags(path: Path) -> None:
    """Rewrite an .m4a so its cover pictures come before its sound and its ES descriptor uses
    all three optional fields: the ``udta`` (with ``covr``) is moved before the ``trak``, and the
    esds gets streamDependenceFlag, URL_Flag and OCRstreamFlag with their fields."""
    root = mp4_boxes(path.read_bytes())
    moov = root.find(b"moov")
    moov.children = sorted(moov.children or [], key=lambda b: b.kind not in (b"mvhd", b"udta"))
    esds = root.find(*AUDIO_ENTRY, b"mp4a", b"esds")
    body = esds.head[4:]  # after version and flags: ES_Descriptor, tag 3
    assert body[0] == 3, body.hex()
    at = 1
    while body[at] & 0x80:  # the length is written in 7-bit groups
        at += 1
    length, rest = body[at], body[at + 1 :]  # ES_ID (2), flags (1), then the descriptors
    url = b"http://archive.invalid/es"
    extra = struct.pack(">H", 2) + bytes([len(url)]) + url + struct.pack(">H", 3)
    assert length < 128 - len(extra)
    fields = rest[:2] + bytes([rest[2] | 0xE0]) + extra + rest[3:]
    esds.head = esds.head[:4] + bytes([3, length + len(extra)]) + fields
    path.write_bytes(mp4_file(root))
