"""Names the Chatbot construct and the runtime share (pure data: CDK imports it)."""

FULFILLMENT_FUNCTION = "chat_fulfillment"
FULFILLMENT_HANDLER = "headless_commerce.runtime.chatbot.fulfillment.handler"
