"""Shared plumbing every app may import and that imports none of them.

Layers, each importing only those below it: documents → replies, consultations → suggestions
→ core. ``core`` holds the rule engine, roles, HTTP helpers, locking, uploads and sanitizing.
"""
