//! Scenario tests (unit tests of the whole module; each file also has its own).

mod builtins;
mod errors;
