"""Page-number paging for the API that a huge `page` cannot break.

ninja's PageNumberPagination turns `?page=99999999999999999999` into an SQL OFFSET past what a 64-bit
integer holds, and the database refuses with a 500. Here `page` has an upper bound, so such a request is a
422 with the usual {"message", "extra"} body; a page past the last one (but within the bound) is an empty
list, as before. `page_size` is capped at the configured maximum, as ninja does.
"""

from ninja import Field, Schema
from ninja.pagination import PageNumberPagination

# Far more pages than any list here has at the largest page size, and an offset well inside 64 bits.
MAX_PAGE = 1_000_000


class BoundedPageNumberPagination(PageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE, description=f"1 to {MAX_PAGE:,}.")
        page_size: int | None = Field(None, ge=1, description="Capped at the server's maximum page size.")
