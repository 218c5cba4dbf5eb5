"""The review screen: KCC staff check, correct and approve what the extractor found."""
