"""Deployable units. Stacks only compose constructs; references flow down the deploy order."""
