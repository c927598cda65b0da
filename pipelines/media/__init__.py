"""Audio and video: decoding, transcription, transcripts, video frames."""
