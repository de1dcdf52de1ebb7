"""The widgets of sockviz: thin views of the core's snapshots and events."""
