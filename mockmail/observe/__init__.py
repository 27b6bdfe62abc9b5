"""What the server shows of itself: metrics, logs, transcripts and resource monitoring."""
