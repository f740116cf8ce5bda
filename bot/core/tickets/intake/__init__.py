"""诉求 intake: the dialogue that turns a complaint, report or request for help into a ticket."""
