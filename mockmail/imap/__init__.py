"""The sans-IO IMAP core (RFC 9051 IMAP4rev2, still speaking RFC 3501 IMAP4rev1): imports neither trio nor
any socket module, nor any layer above it.

Being built: the command parser with literals, the state tables, the response writer, and what a message
looks like to IMAP (ENVELOPE, BODYSTRUCTURE, BODY[section]).  Not served yet.
"""
