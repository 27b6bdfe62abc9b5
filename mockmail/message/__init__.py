"""Message content: composing, headers, MIME parts, ids, and the one way in (`deliver`)."""
