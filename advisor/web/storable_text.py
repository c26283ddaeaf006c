"""What text a client sends that no database can store: a NUL character (PostgreSQL refuses it) or a
lone surrogate (valid in JSON's escapes, not encodable as UTF-8). Caught where input arrives, so it is
a 400 naming the field, not a 500 when the row is written."""


def text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "Contains a NUL character (\\u0000), which cannot be stored."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Contains a lone surrogate (such as \\ud800), which is not text."
    return None


def value_text_problem(value) -> str | None:
    """The first text problem anywhere in a parsed JSON value (its strings and object keys)."""
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, dict):
        return next((problem for pair in value.items() for part in pair if (problem := value_text_problem(part))), None)
    if isinstance(value, list):
        return next((problem for part in value if (problem := value_text_problem(part))), None)
    return None
