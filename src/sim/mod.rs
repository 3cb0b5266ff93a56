//! The simulated cluster: a loopback HTTP server speaking the Kubernetes API.

pub mod error;
pub mod kinds;
pub mod patch;
pub mod selectors;
