"""Language models behind one interface: an OpenAI-compatible HTTP API, or the embedded one."""
