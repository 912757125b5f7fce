//! shim: the Lambda container entry point for LibreChat.
