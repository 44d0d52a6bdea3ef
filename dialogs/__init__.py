"""Conversations that take more than one step: registering a pilot (form, then create) and the gate decision (card,
then record). Each step's state travels in the card's Action.Execute data, not in a dialog stack: two admins
pressing buttons in one channel must not share one."""
