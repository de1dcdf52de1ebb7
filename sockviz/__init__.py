"""sockviz: the life of a TCP socket, made visible."""

__version__ = "0.1.0"
