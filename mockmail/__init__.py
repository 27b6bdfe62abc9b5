"""mockmail: a multi-tenant mock mail server with a REST control API."""

__version__ = "0.1.0"
