"""Serving stored uploads (photos, receipts, PDFs, resources) so that they can never run as a page."""

from pathlib import Path
from typing import BinaryIO

from flask import Response, send_file


def send_upload(path: Path | BinaryIO, name: str, content_type: str, as_attachment: bool = True) -> Response:
    """Send a stored file as exactly its checked type: no sniffing, a CSP that lets nothing run, not cached
    by shared caches; a download (attachment) unless an image is shown inline."""
    response = send_file(path, mimetype=content_type, as_attachment=as_attachment, download_name=name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
