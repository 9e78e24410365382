from datetime import datetime

from ninja import Schema


class NotificationOut(Schema):
    """Exactly the contract's fields (DESIGN.md); the pages show the body and the link."""

    id: int
    kind: str
    title: str
    created_at: datetime
    read: bool


class NotificationListOut(Schema):
    items: list[NotificationOut]
    unread: int


class ReadAllOut(Schema):
    marked: int
    unread: int
