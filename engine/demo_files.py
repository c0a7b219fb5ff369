"""Small valid files for the demo company, made with the standard library only: PNG photos and PDF invoices.

The PNG is an RGB gradient (signature, IHDR, one zlib-compressed IDAT, IEND with CRCs); the PDF is a
one-page document with a few lines of Helvetica text and a correct cross-reference table.
"""

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def make_png(colour: tuple[int, int, int], width: int = 64, height: int = 48) -> bytes:
    """A `width` x `height` 8-bit RGB image shading from `colour` (top left) to a lighter tone (bottom right)."""
    red, green, blue = colour
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")  # filter type 0 (none) for every scanline
        for x in range(width):
            shade = (x + y) * 96 // (width + height)
            row += bytes((min(255, red + shade), min(255, green + shade), min(255, blue + shade)))
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, truecolour, no interlace
    return (PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + _chunk(b"IEND", b""))


def _pdf_text(value: str) -> str:
    """A PDF literal string body: latin-1 only, with the three special characters escaped."""
    safe = value.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(lines: list[str]) -> bytes:
    """A one-page A4 PDF showing `lines` (the first one larger, as a heading)."""
    text = ["BT", "/F1 18 Tf", "72 770 Td", f"({_pdf_text(lines[0])}) Tj", "/F1 11 Tf", "0 -28 Td"]
    for line in lines[1:]:
        text += [f"({_pdf_text(line)}) Tj", "0 -16 Td"]
    stream = "\n".join([*text, "ET"]).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
