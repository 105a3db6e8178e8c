"""The query pipeline: eight phases per expert, experts side by side, progress as events."""
