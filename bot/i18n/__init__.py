"""Languages' catalogs: loading .po files, the Babel extractor for rule tables, the checks, Uzbek transliteration."""
