//! Tests of the TUI: headless app tests, snapshots, escape sequences.
