"""Audio and video records: container facts, keyframe thumbnails, and the transcript.

Every sound record gets its text record (第二十六条): the transcript is the record's text, so
it is searched like any document and a hit opens the recording at the segment's second.
"""

from __future__ import annotations

import io
from pathlib import Path

from pipelines.detect import family_of
from pipelines.media.decode import EncryptedMediaError, MediaError, probe, video_frames
from pipelines.media.transcribe import NoAudioError, shared_transcriber
from pipelines.media.transcript import NO_SPEECH
from pipelines.parsers.base import EncryptedError, ParseContext, ParseError, ParseResult

MAX_THUMBNAILS = 360  # an hour of video at one every 10 s
THUMB_SIZE = (320, 320)

TRANSCRIPT_DONE = "已转写"
TRANSCRIPT_EMPTY = NO_SPEECH
NO_AUDIO = "无音轨"
METADATA_ONLY = "只有元数据"
METADATA_ONLY_WARNING = "只有元数据，没有音频或视频内容；原件已保存"


def _jpeg(image: object) -> bytes:
    from PIL import Image

    assert isinstance(image, Image.Image)
    image.thumbnail(THUMB_SIZE)
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


class MediaParser:
    """Audio (wav, mp3, m4a/aac, amr, ogg, flac) and video (mp4, mov, avi, mkv)."""

    name = "media"
    mime_types: frozenset[str] = frozenset()

    def score(self, mime: str) -> int:
        """Any audio/ or video/ type."""
        return 50 if family_of(mime).is_sound else 0

    def parse(self, path: Path, ctx: ParseContext) -> ParseResult:
        """Probe, take keyframes of a video, transcribe the sound.

        An encrypted (DRM) recording fails as EncryptedError; a container with only metadata is
        kept with its tags and a note that there is nothing to play or transcribe.
        """
        try:
            info = probe(path)
        except EncryptedMediaError as exc:
            raise EncryptedError(str(exc)) from exc
        except MediaError as exc:
            raise ParseError(str(exc)) from exc
        meta: dict[str, object] = {"media": info.as_metadata()}
        if info.created_at:
            meta["media_created_at"] = info.created_at
        if info.metadata_only:
            meta["transcript_status"] = METADATA_ONLY
            return ParseResult(
                text="", pages=[""], metadata=meta, warnings=[METADATA_ONLY_WARNING], parser=self.name
            )
        thumbnails: list[bytes] = []
        if info.has_video:
            for _, image in video_frames(path, every_s=ctx.keyframe_every_s):
                thumbnails.append(_jpeg(image))
                if len(thumbnails) >= MAX_THUMBNAILS:
                    break
        transcriber = shared_transcriber(
            ctx.asr_engine,
            model_dir=Path(ctx.asr_model_dir) if ctx.asr_model_dir else None,
            checkpoint=Path(ctx.asr_checkpoint) if ctx.asr_checkpoint else None,
            beam_size=ctx.asr_beam_size,
            chunk_s=ctx.asr_chunk_s,
            repetition_penalty=ctx.asr_repetition_penalty,
        )
        try:
            transcript = transcriber.transcribe(path, ctx.progress)
        except NoAudioError:
            meta["transcript_status"] = NO_AUDIO
            return ParseResult(
                text="",
                pages=[""],
                metadata=meta,
                warnings=["没有音轨（无声视频）：无需转写"],
                thumbnails=thumbnails,
                parser=self.name,
            )
        except EncryptedMediaError as exc:
            raise EncryptedError(str(exc)) from exc
        except MediaError as exc:
            raise ParseError(f"{exc}；原件已保存" if "原件已保存" not in str(exc) else str(exc)) from exc
        meta["transcript_status"] = TRANSCRIPT_EMPTY if transcript.empty else TRANSCRIPT_DONE
        meta["transcript_engine"] = f"{transcript.engine} / {transcript.model}"
        text = transcript.text()
        return ParseResult(
            text=text,
            pages=[text],
            metadata=meta,
            warnings=list(transcript.warnings),
            thumbnails=thumbnails,
            parser=self.name,
            transcript=transcript,
        )
