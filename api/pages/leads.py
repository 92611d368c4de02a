"""The leads pages: the list and one lead."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.pages import PageUser, render

router = APIRouter(include_in_schema=False)


@router.get("/leads")
def leads_page(request: Request, viewer: PageUser) -> HTMLResponse:
    return render(request, "leads.html", viewer=viewer, title="Leads")
