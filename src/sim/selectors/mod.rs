//! Label and field selectors for list and watch requests, and `metav1.LabelSelector` objects for
//! the controllers. Parsing, validation and error wording follow `k8s.io/apimachinery`.

mod field;
mod label;
mod label_parser;
pub(crate) mod validation;

pub use field::{FieldOp, FieldRequirement, FieldSelector};
pub use label::{LabelSelector, Operator, Requirement};
