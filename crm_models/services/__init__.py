"""Writes: small typed functions, one per use case (HackSoft style)."""
