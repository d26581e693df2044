"""The chatbot: POST /chat over Amazon Lex V2 (or local mode's intent matcher) and the Lex
fulfillment code hook, answering from the orders, search and store services."""
