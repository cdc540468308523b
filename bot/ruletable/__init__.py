"""The rule table from YAML: parsing with line numbers, validation, exploration (`maslahat check`), diagrams."""
