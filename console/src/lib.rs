//! opsconsole: the data layer, the TUI and the sandbox of the LibreChat serverless console.
