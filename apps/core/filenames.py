"""File names that are safe to keep and to send: the one place that cleans a name a person (or a file) gave.

A name arrives from a browser, an archive or a job, and may carry folders, control characters (a CR or LF
would split an HTTP header; Django refuses such a header with a 500), invisible format characters (a
right-to-left override makes "gpj.exe" read as "exe.jpg") or halves of surrogate pairs that no database
text column can hold. `filename_clean` keeps the readable part; `content_disposition` builds the header
value from it, with an ASCII fallback and the exact name in RFC 5987 form.
"""

import re
import unicodedata
from urllib.parse import quote

MAX_NAME_LENGTH = 255
# Control (Cc), format (Cf), surrogate (Cs) and unassigned (Cn) characters, and the line/paragraph separators.
_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Cn", "Zl", "Zp"}
_SPACES = re.compile(r"\s+")
_FALLBACK_UNSAFE = re.compile(r'[^\x20-\x7e]|["\\%;]')


def _visible(text: str) -> str:
    return "".join(" " if unicodedata.category(char) in _DROPPED_CATEGORIES else char for char in text)


def filename_clean(name, *, default: str = "file", max_length: int = MAX_NAME_LENGTH) -> str:
    """The last path part of `name`, without control or invisible characters, at most `max_length` long.

    Spaces are collapsed; a name that is empty (or only dots) once cleaned becomes `default`. The extension
    is kept when the name has to be shortened.
    """
    text = "" if name is None else str(name)
    # Lone surrogates cannot be normalised; they are dropped with the other invisible characters first.
    text = unicodedata.normalize("NFC", _visible(text))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _SPACES.sub(" ", text).strip()
    if not text.strip("."):
        return default
    if len(text) > max_length:
        stem, dot, extension = text.rpartition(".")
        if dot and 0 < len(extension) < 16:
            text = stem[: max_length - len(extension) - 1].rstrip() + "." + extension
        else:
            text = text[:max_length].rstrip()
    return text


def content_disposition(name, *, as_attachment: bool = True, default: str = "download") -> str:
    """A Content-Disposition value for `name` that can never break the header.

    `filename=` carries an ASCII rendering (accents dropped, quotes and other troublemakers replaced);
    `filename*=` carries the exact cleaned name, percent-encoded, when it is not plain ASCII.
    """
    kind = "attachment" if as_attachment else "inline"
    clean = filename_clean(name, default=default)
    ascii_name = unicodedata.normalize("NFKD", clean).encode("ascii", "ignore").decode("ascii")
    fallback = _FALLBACK_UNSAFE.sub("_", ascii_name).strip() or default
    value = f'{kind}; filename="{fallback}"'
    if fallback != clean:
        value += f"; filename*=UTF-8''{quote(clean, safe='')}"
    return value
