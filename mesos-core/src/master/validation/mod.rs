//! Validation of what schedulers send, kept apart from the state changes it guards (as
//! Apache Mesos' `src/master/validation.cpp` is).
//!
//! Every function here is pure: it reads protobuf messages (and, where the master's state
//! matters, a few values or lookups the caller passes in) and answers `Ok` or the reason
//! Mesos 1.11 gives, word for word where Mesos has a fixed text.
//!
//! - [`validate_scheduler_call`]: the message-level checks of a v1 scheduler `Call`;
//!   [`validate_call_principal`]: a SUBSCRIBE's principal against the authenticated one.
//! - [`validate_framework_info`], [`validate_framework_update`]: SUBSCRIBE and
//!   UPDATE_FRAMEWORK; [`framework_roles`] and [`has_capability`] read a `FrameworkInfo`.
//! - [`validate_task`], [`validate_task_group`]: LAUNCH and LAUNCH_GROUP operations.
//! - [`validate_reserve`], [`validate_unreserve`], [`validate_create`],
//!   [`validate_destroy`]: the RESERVE, UNRESERVE, CREATE and DESTROY operations.

mod call;
mod common;
mod framework;
mod operation;
mod task;

pub use call::{validate_call_principal, validate_scheduler_call};
pub use framework::{
    framework_roles, has_capability, validate_framework_info, validate_framework_update,
};
pub use operation::{validate_create, validate_destroy, validate_reserve, validate_unreserve};
pub use task::{validate_task, validate_task_group, LaunchContext};
