//! The cluster side of the console: kube-rs client, watches into reflector stores, endpoint
//! grouping and pure status derivation, pod log streams. No terminal code here.

pub mod model;
