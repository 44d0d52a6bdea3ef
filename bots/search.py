"""The message extension: "Find a pilot" from any chat's message box.

Teams sends ``composeExtension/query`` as the person types (and once with nothing typed when the search opens). The
answer lists the matching pilots of their tenant, each a pilot's status card to insert into the message, with a
small preview card for the result list. The inserted card refreshes itself when shown (cards.status), so it does not
go stale in the chat it was pasted into.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from botbuilder.schema import Attachment
from botbuilder.schema.teams import MessagingExtensionAttachment, MessagingExtensionResponse, MessagingExtensionResult

from bots.activity import SearchQuery
from bots.turn import Turn
from cards.status import status_card, status_preview
from cards.text import ADAPTIVE_CARD_CONTENT_TYPE, card_json
from governance.views import PilotStatus

MAX_RESULTS: Final = 10  # a search finds a pilot or two; `pilots` is the list of them all
NO_PILOTS_REPLY: Final = "No pilots yet. Type new pilot in a chat with PilotGate to register the first one."
NO_MATCH_REPLY: Final = "No pilot matches '{query}'. Clear the search to see every pilot."
OLD_SEARCH_REPLY: Final = "This search is from an older version of PilotGate. Please open it again."


async def find_pilots(turn: Turn, query: SearchQuery) -> MessagingExtensionResponse:
    """The pilots whose names match what was typed, as `status <name>` finds them, best first; with nothing typed,
    the tenant's pilots, those needing attention first. At most MAX_RESULTS in all, paged as Teams scrolls."""
    found = await turn.app.portfolio.search(turn.asker.tenant_id, query.text, MAX_RESULTS)
    if not found:
        return search_message(NO_MATCH_REPLY.format(query=query.text) if query.text else NO_PILOTS_REPLY)
    return search_results(found[query.skip : query.skip + max(query.count, 1)])


def search_results(statuses: Sequence[PilotStatus]) -> MessagingExtensionResponse:
    """A result list: each item inserts the pilot's status card; the list shows its thumbnail preview."""
    attachments = []
    for status in statuses:
        preview = status_preview(status)
        attachments.append(
            MessagingExtensionAttachment(
                content_type=ADAPTIVE_CARD_CONTENT_TYPE,
                content=card_json(status_card(status)),
                preview=Attachment(content_type=preview["contentType"], content=preview["content"]),
            )
        )
    return MessagingExtensionResponse(
        compose_extension=MessagingExtensionResult(type="result", attachment_layout="list", attachments=attachments)
    )


def search_message(text: str) -> MessagingExtensionResponse:
    """A line of plain text where the results would be (Teams applies no formatting to it)."""
    return MessagingExtensionResponse(compose_extension=MessagingExtensionResult(type="message", text=text))
