"""Reading a ZIP archive in bounded memory, trusting nothing it says about itself.

`zipfile.ZipFile` loads the whole central directory into memory (about half a kilobyte per member) and
`ZipFile.read` inflates a member whole. An uploaded archive is hostile until checked, so this module reads
the directory as a stream (`archive_directory` yields one member at a time) and inflates a member in
chunks (`member_chunks`), refusing as soon as it grows past its limit or past the size its directory entry
declared, and checking its CRC at the end. Only the methods AfterResume writes are read: stored and deflate
(whose expansion is at most about 1:1000), never encrypted members.
"""

import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from apps.core.errors import ValidationFailed

STORED, DEFLATED = 0, 8
CHUNK = 64 * 1024
_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # one central directory entry, without its variable parts
_LOCAL = struct.Struct("<4s2B4HL2L2H")  # a member's local header
_MAX_COMMENT = 0xFFFF
_ZIP64_EXTRA = 0x0001
_UTF8_NAMES = 0x800
_ENCRYPTED = 0x1
_LABEL_UNSAFE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")  # a member's name, quoted in a message


class ArchiveUnreadable(ValidationFailed):
    """The archive, or one member of it, cannot be read safely."""


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    method: int
    flags: int
    crc: int
    compress_size: int
    file_size: int
    header_offset: int

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")


@dataclass(frozen=True, slots=True)
class Directory:
    count: int
    offset: int
    size: int


def _file_size(handle: IO[bytes]) -> int:
    handle.seek(0, 2)
    return handle.tell()


def archive_end(handle: IO[bytes]) -> Directory:
    """Where the central directory is and how many members it lists: from the last bytes of the file."""
    total = _file_size(handle)
    tail_length = min(total, _EOCD.size + _MAX_COMMENT)
    handle.seek(total - tail_length)
    tail = handle.read(tail_length)
    position = tail.rfind(b"PK\x05\x06")
    if position < 0 or position + _EOCD.size > len(tail):
        raise ArchiveUnreadable("This file is not a ZIP archive. Choose the .zip file an export gave you.")
    _sig, disk, directory_disk, _on_disk, count, size, offset, _comment = _EOCD.unpack_from(tail, position)
    if count == 0xFFFF or size == 0xFFFFFFFF or offset == 0xFFFFFFFF:
        start = total - tail_length + position - _ZIP64_LOCATOR.size
        if start < 0:
            raise ArchiveUnreadable("The archive's directory is damaged.")
        handle.seek(start)
        signature, _disk, record_offset, _disks = _ZIP64_LOCATOR.unpack(handle.read(_ZIP64_LOCATOR.size))
        handle.seek(record_offset)
        record = handle.read(_ZIP64_EOCD.size)
        if signature != b"PK\x06\x07" or len(record) < _ZIP64_EOCD.size or record[:4] != b"PK\x06\x06":
            raise ArchiveUnreadable("The archive's directory is damaged.")
        _s, _n, _v1, _v2, disk, directory_disk, _on_disk, count, size, offset = _ZIP64_EOCD.unpack(record)
    if disk or directory_disk:
        raise ArchiveUnreadable(
            "This archive is split over several files; choose the single .zip of an export."
        )
    if offset + size > total:
        raise ArchiveUnreadable("The archive's directory is damaged or the file is incomplete.")
    return Directory(count=count, offset=offset, size=size)


class _Cursor:
    """Sequential reads from a region of a file through a small buffer."""

    def __init__(self, handle: IO[bytes], start: int, length: int):
        self.handle, self.position, self.left = handle, start, length
        self.buffer, self.index = b"", 0

    def take(self, count: int) -> bytes:
        if self.index + count > len(self.buffer):
            pieces = [self.buffer[self.index :]]
            have = len(pieces[0])
            while have < count:
                if self.left <= 0:
                    raise ArchiveUnreadable("The archive's directory is damaged or the file is incomplete.")
                self.handle.seek(self.position)
                piece = self.handle.read(min(CHUNK, self.left))
                if not piece:
                    raise ArchiveUnreadable("The archive's directory is damaged or the file is incomplete.")
                self.position += len(piece)
                self.left -= len(piece)
                pieces.append(piece)
                have += len(piece)
            self.buffer, self.index = b"".join(pieces), 0
        data = self.buffer[self.index : self.index + count]
        self.index += count
        return data


def _zip64_sizes(extra: bytes, file_size: int, compress_size: int, offset: int) -> tuple[int, int, int]:
    position = 0
    while position + 4 <= len(extra):
        kind, length = struct.unpack_from("<2H", extra, position)
        body = extra[position + 4 : position + 4 + length]
        if kind == _ZIP64_EXTRA:
            values = list(struct.unpack_from(f"<{len(body) // 8}Q", body))
            if file_size == 0xFFFFFFFF and values:
                file_size = values.pop(0)
            if compress_size == 0xFFFFFFFF and values:
                compress_size = values.pop(0)
            if offset == 0xFFFFFFFF and values:
                offset = values.pop(0)
            break
        position += 4 + length
    return file_size, compress_size, offset


def archive_members(handle: IO[bytes], directory: Directory) -> Iterator[Member]:
    """Every member the central directory lists, one at a time (memory stays flat however many)."""
    cursor = _Cursor(handle, directory.offset, directory.size)
    for _ in range(directory.count):
        fixed = cursor.take(_CENTRAL.size)
        values = _CENTRAL.unpack(fixed)
        signature, flags, method, crc, compress_size, file_size = values[0], *values[5:7], *values[9:12]
        name_length, extra_length, comment_length, offset = *values[12:15], values[18]
        if signature != b"PK\x01\x02":
            raise ArchiveUnreadable("The archive's directory is damaged.")
        raw_name = cursor.take(name_length)
        extra = cursor.take(extra_length)
        cursor.take(comment_length)
        name = raw_name.decode("utf-8" if flags & _UTF8_NAMES else "cp437", errors="replace")
        file_size, compress_size, offset = _zip64_sizes(extra, file_size, compress_size, offset)
        yield Member(name, method, flags, crc, compress_size, file_size, offset)


def member_chunks(handle: IO[bytes], member: Member, *, limit: int) -> Iterator[bytes]:
    """The member's bytes in chunks of at most CHUNK; refuses past `limit` or past its declared size.

    Raises ArchiveUnreadable when the member is larger than `limit` (checked from the directory before
    anything is read), encrypted, compressed in a way we do not read, truncated, or damaged (CRC).
    """
    label = _LABEL_UNSAFE.sub("?", member.name[-80:])
    if member.file_size > limit:
        raise ArchiveUnreadable(f"{label} in the archive is larger than we accept.")
    if member.flags & _ENCRYPTED or member.method not in (STORED, DEFLATED):
        raise ArchiveUnreadable(f"{label} in the archive is encrypted or compressed in a way we do not read.")
    handle.seek(member.header_offset)
    header = handle.read(_LOCAL.size)
    if len(header) < _LOCAL.size or header[:4] != b"PK\x03\x04":
        raise ArchiveUnreadable(f"{label} in the archive is damaged and cannot be read.")
    name_length, extra_length = _LOCAL.unpack(header)[-2:]
    position = member.header_offset + _LOCAL.size + name_length + extra_length
    left = member.compress_size
    inflater = zlib.decompressobj(-zlib.MAX_WBITS) if member.method == DEFLATED else None
    produced, crc = 0, 0

    def account(data: bytes) -> bytes:
        nonlocal produced, crc
        produced += len(data)
        if produced > member.file_size:
            # More bytes than the directory declared: a bomb or a damaged archive, either way no further.
            raise ArchiveUnreadable(f"{label} in the archive is damaged (it unpacks larger than it says).")
        crc = zlib.crc32(data, crc)
        return data

    try:
        while left > 0:
            handle.seek(position)
            raw = handle.read(min(CHUNK, left))
            if not raw:
                raise ArchiveUnreadable(f"{label} in the archive is cut short; the file is incomplete.")
            position += len(raw)
            left -= len(raw)
            if inflater is None:
                yield account(raw)
                continue
            data = inflater.decompress(raw, CHUNK)
            while data:
                yield account(data)
                data = (
                    inflater.decompress(inflater.unconsumed_tail, CHUNK) if inflater.unconsumed_tail else b""
                )
        if inflater is not None:
            while data := inflater.decompress(b"", CHUNK):
                yield account(data)
            if tail := inflater.flush():
                yield account(tail)
    except zlib.error as exc:
        raise ArchiveUnreadable(f"{label} in the archive is damaged and cannot be read.") from exc
    if produced != member.file_size or crc != member.crc:
        raise ArchiveUnreadable(f"{label} in the archive is damaged and cannot be read.")


def member_read(handle: IO[bytes], member: Member, *, limit: int) -> bytes:
    """The member's bytes, at most `limit` of them (refused beyond)."""
    return b"".join(member_chunks(handle, member, limit=limit))


def member_copy(handle: IO[bytes], member: Member, target: IO[bytes], *, limit: int) -> int:
    """Copy the member into `target` (a temporary file), at most `limit` bytes; returns how many."""
    written = 0
    for chunk in member_chunks(handle, member, limit=limit):
        target.write(chunk)
        written += len(chunk)
    target.seek(0)
    return written
