//! The simulated cluster: a loopback HTTP server speaking the Kubernetes API.

pub mod audit;
pub mod context;
pub mod controllers;
pub mod error;
pub mod faults;
pub mod http;
pub mod kinds;
pub mod load;
pub mod logs;
pub mod meta;
pub mod patch;
pub mod protobuf;
pub mod rng;
pub mod scenario;
pub mod selectors;
pub mod server;
pub mod store;
