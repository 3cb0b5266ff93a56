//! Small helpers with no home of their own and no dependency on the cluster or the screen.

pub mod age;
pub mod duration;
