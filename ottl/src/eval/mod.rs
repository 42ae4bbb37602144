//! The evaluator over decoded OTLP requests.
