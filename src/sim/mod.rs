//! The simulated cluster: a loopback HTTP server speaking the Kubernetes API.

pub mod audit;
pub mod context;
pub mod controllers;
pub mod error;
pub mod faults;
pub mod kinds;
pub mod logs;
pub mod meta;
pub mod rng;
pub mod store;
