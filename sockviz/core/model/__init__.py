"""The model: steps, options, addresses, payloads, sizes, events and error reasons.

Plain data and checks of what the user typed; nothing here opens or reads a socket.
"""
