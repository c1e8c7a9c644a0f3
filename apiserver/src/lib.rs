//! The minik8s API server.
