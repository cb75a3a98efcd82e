"""Files to download: CSV for German spreadsheets, named for the browser to save."""

from __future__ import annotations

from werkzeug.wrappers import Response


def csv_download(text: str, filename: str) -> Response:
    return Response(text.encode("utf-8"), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
