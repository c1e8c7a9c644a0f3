//! Kubernetes API machinery: selectors, patches, server-side apply and name validation, as the
//! API server uses them.
//!
//! | module             | Kubernetes counterpart                                  |
//! |--------------------|---------------------------------------------------------|
//! | [`labels`]         | k8s.io/apimachinery/pkg/labels (+ metav1 LabelSelector) |
//! | [`field`]          | k8s.io/apimachinery/pkg/util/validation/field           |
//! | [`fields`]         | k8s.io/apimachinery/pkg/fields                          |
//! | [`validation`]     | k8s.io/apimachinery/pkg/util/validation                 |
//! | [`patch`]          | JSON patch, merge patch, strategicpatch                 |
//! | [`managed_fields`] | server-side apply: structured-merge-diff, util/managedfields |

pub mod field;
pub mod fields;
pub mod labels;
pub mod managed_fields;
pub mod patch;
pub mod validation;

pub use fields::{FieldOperator, FieldRequirement, FieldSelector, FieldSelectorError};
pub use labels::{Operator, Requirement, Selector, SelectorError};
pub use patch::{PatchError, PatchType, json_patch, merge_patch, strategic_merge_patch};
