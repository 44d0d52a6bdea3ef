"""The due-work sweep: monthly check-ins, nudges and gate reminders."""
