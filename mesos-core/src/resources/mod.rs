//! The Resources algebra of Mesos: values, reservations, arithmetic and parsing.
//!
//! This is the heart of the allocator and the master's offer accounting, so it is exact
//! (fixed-point scalars, canonical ranges and sets) and fast (sorted collections with
//! merge-based arithmetic; see [`Resources`]).
//!
//! - [`Scalar`], [`Ranges`], [`Set`], [`Value`]: resource values and their arithmetic.
//! - [`validate_role`] and the role hierarchy; [`Reservation`] and refined stacks.
//! - [`DiskInfo`]: disk sources and persistent volumes.
//! - [`Resource`]: one valid resource, converted from and to `mesos.v1.Resource` in either
//!   reservation format.
//! - [`Resources`]: the collection, with `+`, `-`, `contains` and the accessors the master
//!   and allocator use.
//! - [`parse_resources`] / [`parse_attributes`]: the agent's `--resources` and
//!   `--attributes` flags.
//!
//! ```
//! use mesos_core::resources::{parse_resources, Resources};
//!
//! let total = parse_resources("cpus:4;mem:2048;ports:[31000-32000]", "*").unwrap();
//! let used = parse_resources("cpus:1.5;ports:[31000-31009]", "*").unwrap();
//! let free = &total - &used;
//! assert!(total.contains(&used));
//! assert_eq!(free.to_string(), "cpus:2.5; mem:2048; ports:[31010-32000]");
//! ```

mod attributes;
mod collection;
mod disk;
mod error;
mod parse;
mod ranges;
mod reservation;
mod resource;
mod role;
mod scalar;
mod set;
mod value;

pub use attributes::{parse_attributes, Attributes};
pub use collection::{Iter, Resources};
pub use disk::{DiskInfo, DiskSource, DiskSourceType, Persistence, SourceRoot};
pub use error::{ParseError, ParseErrorKind, ResourceError, RoleError, Subject, ValueError};
pub use parse::parse_resources;
pub use ranges::{Range, Ranges};
pub use reservation::{validate_stack, Label, Labels, Reservation, ReservationType};
pub use resource::{Resource, ResourceBuilder};
pub use role::{is_in_subtree, is_strict_subrole_of, validate_role, UNRESERVED_ROLE};
pub use scalar::{Scalar, ScalarParseError};
pub use set::Set;
pub use value::{Value, ValueType};
