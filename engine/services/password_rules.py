"""What a new staff password must be (OWASP ASVS 2.1, NIST 800-63B 5.1.1.2): long, not common, not guessable.

One check for every place a password is set (`signoff staff add`, the admin's staff form, a user's own
change), so the rules cannot drift apart. No composition rules (a digit, a symbol ...): length and a
blocklist, as ASVS asks. The blocklist is common_passwords.txt next to this file.
"""

import re
from functools import cache
from pathlib import Path

MAX_LENGTH = 1000  # argon2 hashes anything, but a login form need not carry a book
MIN_DISTINCT = 4
SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm", "qwertzuiop", "azertyuiop",
             "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "1q2w3e4r5t6y7u8i9o0p", "zaq1xsw2cde3vfr4bgt5")
_LEET = str.maketrans({"@": "a", "4": "a", "8": "b", "3": "e", "1": "i", "!": "i", "0": "o", "$": "s", "5": "s",
                       "7": "t", "+": "t", "2": "z"})
_SEPARATORS = re.compile(r"[\s._\-+]+")
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_WORDS = re.compile(r"[^\W\d_]{4,}")
_LIST = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped blocklist (read once per process)."""
    lines = _LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str, *, min_length: int, email: str = "", name: str = "") -> str | None:
    """Why `password` may not be used, as "password: ..." (InvalidInput's field format), or None if it may.

    Refused: shorter than `min_length` or longer than MAX_LENGTH; fewer than four different characters or one
    chunk repeated; a run of the alphabet, digits or a keyboard row (either way); the e-mail address's name
    part or a word of the person's name in it; on the common list, also after stripping digits and symbols
    from both ends and undoing l33t spelling (so "Password2024!" and "p@ssw0rd" are refused too).
    """
    password = password or ""
    if len(password) < min_length:
        return f"password: at least {min_length} characters"
    if len(password) > MAX_LENGTH:
        return f"password: at most {MAX_LENGTH} characters"
    lower = password.lower()
    joined = _SEPARATORS.sub("", lower)
    if len(set(joined)) < MIN_DISTINCT or re.fullmatch(r"(.+?)\1+", joined):
        return "password: too repetitive; use a few unrelated words or a password manager"
    if any(joined in sequence * 3 or joined in sequence[::-1] * 3 for sequence in SEQUENCES):
        return "password: a run of letters, digits or keyboard keys is easy to guess"
    if any(part in lower or part in joined for part in _personal_parts(email, name)):
        return "password: must not contain your name or e-mail address"
    if _candidates(lower, joined) & common_passwords():
        return "password: one of the most common passwords; choose another"
    return None


def _personal_parts(email: str, name: str) -> set[str]:
    """The e-mail address's local part and the words (4+ letters) of it and of the name, lower-cased."""
    local = (email or "").strip().lower().partition("@")[0]
    parts = set(_WORDS.findall(local)) | set(_WORDS.findall((name or "").lower()))
    if len(local) >= 4:
        parts.add(local)
    return parts


def _candidates(lower: str, joined: str) -> set[str]:
    stripped = {_EDGES.sub("", text) for text in (lower, joined)}
    return {lower, joined} | stripped | {text.translate(_LEET) for text in stripped | {lower, joined}}
