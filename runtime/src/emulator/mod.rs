//! The local Runtime API server.
