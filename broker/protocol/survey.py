"""The survey's part of the contract, for devices: the nine SKM elements and the phone link of a ticket.

Both live in the pure core (the engine checks answers against the elements and signs the links);
the kiosk and the survey tablet read them through here, as they read every other part of the contract.
"""

from broker.core.ikm import ELEMENTS
from broker.core.survey import survey_url_from_reply, ticket_page_url_from_reply

__all__ = ["ELEMENTS", "survey_url_from_reply", "ticket_page_url_from_reply"]
