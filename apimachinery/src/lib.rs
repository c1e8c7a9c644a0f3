//! Kubernetes API machinery.
