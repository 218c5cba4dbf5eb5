"""Parsing (bytes → the text a person reads) and extraction (text → offers)."""


def clear_caches() -> None:
    """Forget the per-text caches of the field finders (a benchmark over repeated messages
    would otherwise measure cache hits, not extraction)."""
    from parsers import dates, fields
    for cached in (fields._find_places, fields._find_postcodes, fields._find_streets, dates._find_dates):
        cached.cache_clear()
