"""Cheap checks of image files before any decoding: magic bytes, the size in the header, the end marker.

`inspect(path)` reads a few dozen bytes at each end of a file (and walks the
segment headers of a JPEG, seeking over their payloads) and returns what the
header says: format, height, width, channels, and whether the header alone
could vouch for the file. A file that fails outright (empty, not an image,
truncated inside its header, or a BMP shorter than it declares) raises
`BadImage` with the reason. A file whose end marker is missing (a JPEG without
its EOI, a PNG without IEND, a GIF without its trailer) may be truncated or may
carry bytes after the marker, which some cameras write: the header cannot tell,
so `needs_decode` is set and the loader decodes that file to decide.

The formats are those `keras.utils.image_dataset_from_directory` reads
(BMP, GIF, JPEG, PNG), told apart by content as `tf.io.decode_image` does,
never by the file name.
"""

import os
import struct

EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # keras.utils.image_dataset_from_directory's list
_TAIL = 1024  # bytes searched for an end marker: room for a little padding after it
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (hold height, width, components); C4, C8 and CC are not frames.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class BadImage(ValueError):
    """A file that is not a readable image; the message is the reason, without the path."""


class Header:
    """What a file's header says: `format`, `height`, `width`, `channels` (1, 3 or 4; 0 if unknown)."""

    __slots__ = ("format", "height", "width", "channels", "needs_decode")

    def __init__(self, format, height, width, channels, needs_decode=False):
        self.format, self.height, self.width = format, height, width
        self.channels, self.needs_decode = channels, needs_decode

    def __repr__(self):
        return (f"Header({self.format}, {self.height}x{self.width}x{self.channels}"
                + (", needs_decode" if self.needs_decode else "") + ")")


def inspect(path) -> Header:
    """The header of the image file `path`; `BadImage` when it cannot be an image."""
    with open(path, "rb") as f:
        head = f.read(64)
        if not head:
            raise BadImage("empty file (0 bytes)")
        size = os.fstat(f.fileno()).st_size
        if head.startswith(b"\xff\xd8\xff"):
            header = _jpeg(f, size)
        elif head.startswith(_PNG_SIGNATURE):
            header = _png(head)
        elif head[:6] in (b"GIF87a", b"GIF89a"):
            header = _gif(head)
        elif head[:2] == b"BM":
            header = _bmp(head, size)
        else:
            raise BadImage(f"not a BMP, GIF, JPEG or PNG image (it starts with {head[:8]!r})")
        if header.height <= 0 or header.width <= 0:
            raise BadImage(f"its {header.format} header declares a {header.height}x{header.width} image")
        if not header.needs_decode and header.format != "bmp":
            f.seek(max(size - _TAIL, 0))
            tail = f.read()
            marker = {"jpeg": b"\xff\xd9", "png": b"IEND", "gif": b"\x3b"}[header.format]
            # A GIF's trailer is one byte: only the very end counts; the others may sit before padding.
            ends = tail.rstrip(b"\x00").endswith(marker) if header.format == "gif" else marker in tail
            header.needs_decode = not ends
    return header


def _jpeg(f, size):
    """Walk the marker segments from SOI to the first frame header (seeking over payloads)."""
    position = 2
    while position + 4 <= size:
        f.seek(position)
        chunk = f.read(4)
        if len(chunk) < 4 or chunk[0] != 0xFF:
            raise BadImage(f"JPEG segment at byte {position} has no marker: corrupt or truncated")
        marker = chunk[1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            position += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any frame header
            raise BadImage("JPEG has no frame header before its image data")
        length = struct.unpack(">H", chunk[2:4])[0]
        if marker in _SOF:
            frame = f.read(6)
            if len(frame) < 6:
                break
            height, width = struct.unpack(">HH", frame[1:5])
            if height == 0:  # the height may come later in a DNL segment: only a decode can tell
                return Header("jpeg", 1, width, frame[5], needs_decode=True)
            return Header("jpeg", height, width, frame[5])
        position += 2 + length
    raise BadImage("JPEG is truncated before its frame header")


def _png(head):
    if len(head) < 26 or head[12:16] != b"IHDR":
        raise BadImage("PNG is truncated or corrupt: no IHDR chunk after the signature")
    width, height = struct.unpack(">II", head[16:24])
    color_type = head[25]
    channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(color_type)
    if channels is None:
        raise BadImage(f"PNG declares an unknown colour type {color_type}")
    return Header("png", height, width, channels)


def _gif(head):
    if len(head) < 10:
        raise BadImage("GIF is truncated inside its header")
    width, height = struct.unpack("<HH", head[6:10])
    return Header("gif", height, width, 3)


def _bmp(head, size):
    if len(head) < 30:
        raise BadImage("BMP is truncated inside its header")
    declared = struct.unpack("<I", head[2:6])[0]
    if declared > size:
        raise BadImage(f"BMP declares {declared} bytes but the file has {size}: truncated")
    width, height = struct.unpack("<ii", head[18:26])
    bits = struct.unpack("<H", head[28:30])[0]
    return Header("bmp", abs(height), width, 4 if bits == 32 else 3)
