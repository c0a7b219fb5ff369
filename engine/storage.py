"""Uploaded files (photos, receipts, PDFs, resources) on disk under generated names.

The upload's own name is kept only as data (for the download's filename); the file on disk is named by a
random token, so a name like `../../etc/passwd` or `x.html` can never choose where or what is stored.
The content is checked against the expected kind by its first bytes, not by the name the browser sent.
"""

import secrets
from dataclasses import dataclass
from pathlib import Path

from engine.errors import InvalidInput, NotFound

# kind -> {extension: (content type, magic prefixes)}
_SIGNATURES = {
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".webp": ("image/webp", (b"RIFF",)),
    ".pdf": ("application/pdf", (b"%PDF-",)),
}
IMAGE = frozenset({".jpg", ".jpeg", ".png", ".webp"})
PDF = frozenset({".pdf"})
RECEIPT = IMAGE | PDF
ANY_FILE = None  # resources: any content, always served as a download


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    original_name: str
    content_type: str
    size: int


class FileStore:
    def __init__(self, root: str | Path, max_bytes: int):
        self.root = Path(root)
        self.max_bytes = max_bytes

    def check(self, field: str, data: bytes, original_name: str, allowed: frozenset[str] | None) -> StoredFile:
        """Validate an upload without writing it (so a form can report every problem before anything is saved).

        :raises InvalidInput: empty, too large, or not the expected kind ("field: problem").
        """
        name = Path((original_name or "").replace("\\", "/")).name.strip()[:255] or "upload"
        if not data:
            raise InvalidInput(f"{field}: the file is empty")
        if len(data) > self.max_bytes:
            raise InvalidInput(f"{field}: larger than {self.max_bytes // (1024 * 1024)} MB")
        suffix = Path(name).suffix.lower()
        if allowed is None:
            content_type = _SIGNATURES.get(suffix, ("application/octet-stream", ()))[0]
            return StoredFile("", name, content_type, len(data))
        if suffix not in allowed:
            kinds = ", ".join(sorted(allowed))
            raise InvalidInput(f"{field}: {name} is not an allowed file type ({kinds})")
        content_type, magics = _SIGNATURES[suffix]
        if not any(data.startswith(magic) for magic in magics):
            raise InvalidInput(f"{field}: {name} is not a valid {suffix[1:].upper()} file")
        return StoredFile("", name, content_type, len(data))

    def save(self, field: str, data: bytes, original_name: str, allowed: frozenset[str] | None) -> StoredFile:
        """Check and write an upload under a new random name.

        :raises InvalidInput: see `check`.
        """
        checked = self.check(field, data, original_name, allowed)
        stored_name = secrets.token_hex(16) + Path(checked.original_name).suffix.lower()[:10]
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / stored_name).write_bytes(data)
        return StoredFile(stored_name, checked.original_name, checked.content_type, checked.size)

    def path(self, stored_name: str) -> Path:
        """:raises NotFound: a name this store did not generate, or a file that is gone."""
        if not stored_name or "/" in stored_name or "\\" in stored_name or stored_name.startswith("."):
            raise NotFound("no such file")
        path = self.root / stored_name
        if not path.is_file():
            raise NotFound("the file is no longer stored")
        return path

    def delete(self, stored_name: str) -> None:
        """Remove a stored file if it is there (after the row pointing at it was deleted and committed)."""
        try:
            self.path(stored_name).unlink()
        except (NotFound, FileNotFoundError):
            pass
