"""The search document's column: text everywhere, a tsvector on PostgreSQL.

The value is the same in Python on every database: the tokens separated by spaces, with a
space at each end (`` 基 基站 5g ``, see suggestions.search). That string is valid tsvector
input (tokens hold only letters, digits and CJK characters), so PostgreSQL stores it as a
tsvector of exactly those lexemes — no text-search parser, no dependence on the database's
locale, nothing to re-parse when a row is checked again — and its GIN index reads it as it is.
Other databases (SQLite) keep the text and search it with LIKE.
"""

import re

from django.db import models

_LEXEME = re.compile(r"'((?:[^']|'')*)'")


class SearchDocumentField(models.TextField):
    def db_type(self, connection):
        if connection.vendor == "postgresql":
            return "tsvector"
        return super().db_type(connection)

    def from_db_value(self, value, expression, connection):
        if value is None or connection.vendor != "postgresql":
            return value
        lexemes = [lexeme.replace("''", "'") for lexeme in _LEXEME.findall(value)]
        return f" {' '.join(lexemes)} " if lexemes else ""
