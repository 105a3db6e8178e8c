"""Keeping experts current from Telegram's API (Telethon): new posts, edits and comments."""
