"""Importing Telegram exports: a channel's posts and links, its discussion group's comments.

Kept empty of imports: the parsing process (`importing.parse_worker`) loads this package
first, and must start without SQLAlchemy.
"""
