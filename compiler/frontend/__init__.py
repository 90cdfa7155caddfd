"""The front end: source -> FlowModel -> FlowGraph -> diagnostics. Imports no later stage."""
