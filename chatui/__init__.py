"""The Tk windows of the chat: shared widgets, the client window and the server window."""
