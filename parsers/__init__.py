"""Parsing (bytes → the text a person reads) and extraction (text → offers)."""
