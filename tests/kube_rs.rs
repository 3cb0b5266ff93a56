//! kube-rs 5 against the simulator: the watcher and reflector, deletes and finalizers, conflicts,
//! retries, patches, logs and waits must behave as they do against a real apiserver
//! (the shared k8s-api reference describes the wire behaviour asserted here). Each test starts
//! its own simulator in-process (`common::inproc`) and talks to it with a kubeconfig-built client.
//!
//! `controllers` needs the simulator's controllers (scheduler + kubelet, deployment controller,
//! garbage collector) to run pods and write their logs.

mod common;

#[path = "kube_rs/controllers.rs"]
mod controllers;
#[path = "kube_rs/delete.rs"]
mod delete;
#[path = "kube_rs/errors.rs"]
mod errors;
#[path = "kube_rs/patch.rs"]
mod patch;
#[path = "kube_rs/wait.rs"]
mod wait;
#[path = "kube_rs/watch.rs"]
mod watch;
#[path = "kube_rs/watch_modes.rs"]
mod watch_modes;
