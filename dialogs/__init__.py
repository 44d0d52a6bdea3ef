"""Multi-turn flows (botbuilder-dialogs) for conversations that need more than one card.

Every flow so far fits in one card answered by Action.Execute (the new-pilot form re-shows itself with errors),
so no dialog is registered yet; bot state for dialogs is already persisted by bots.state_storage.
"""
