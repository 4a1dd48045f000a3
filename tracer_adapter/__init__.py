"""CWM traces: the in-sandbox tracer, the client's tracer, trace indexes and the verbatim check."""
