"""Routes of paper questionnaires (town admins): the PDF, the entry form, the CSV import."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from services.gateway.town_admin import paper
from services.gateway.town_admin.routes import CONSULTATION, STAFF_CONSULTATION
from services.gateway.web.page import Page
from services.gateway.web.routing import api as route
from services.gateway.web.routing import staff_page
from soesmart import contracts as c


class PaperRoutes:
    app: Any  # provided by GatewayService
    backend: Any

    @route("POST", CONSULTATION + "/paper-sheets",
           "Enter a returned paper sheet (one anonymous respondent), or correct one", "paper",
           auth="town_admin", body=paper.SheetBody, response=c.PaperSheetView, status=201,
           errors=(401, 403, 404, 409, 413, 415, 422),
           description="A sheet number is entered once per consultation (409 SHEET_ALREADY_ENTERED); "
                       "a correction needs `correction: true` and a `reason` and is logged.")
    def api_enter_paper_sheet(self, request: Request, town: str, cid: str) -> Response:
        return paper.api_enter_sheet(self.backend, self.app.settings, request, town, cid)

    @route("POST", CONSULTATION + "/paper-sheets/import",
           "Import scanned paper sheets as CSV (Bogen;Code;Wirksamkeit;Unterstützung)", "paper",
           auth="town_admin", body=None, body_type="text/csv", response=c.PaperImportReport, status=201,
           errors=(401, 403, 404, 409, 413, 415, 422),
           description="All rows or none: any problem is answered 422 with `{row, column, problem}`.")
    def api_import_paper_sheets(self, request: Request, town: str, cid: str) -> Response:
        return paper.api_import_sheets(self.backend, self.app.settings, request, town, cid)

    @staff_page("GET", STAFF_CONSULTATION + "/fragebogen.pdf")
    def admin_questionnaire_pdf(self, page: Page, town: str, cid: str) -> Response:
        return paper.questionnaire_download(page, self.backend, town, cid)

    @staff_page("GET", STAFF_CONSULTATION + "/papier")
    def admin_paper_sheets(self, page: Page, town: str, cid: str) -> Response:
        return paper.sheets_page(page, self.backend, town, cid)

    @staff_page("POST", STAFF_CONSULTATION + "/papier")
    def admin_enter_paper_sheet(self, page: Page, town: str, cid: str) -> Response:
        return paper.sheet_enter(page, self.backend, town, cid)

    @staff_page("POST", STAFF_CONSULTATION + "/papier/import")
    def admin_import_paper_sheets(self, page: Page, town: str, cid: str) -> Response:
        return paper.sheets_import(page, self.backend, town, cid)
