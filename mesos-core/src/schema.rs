//! The compiled Mesos schemas at run time: the descriptor of every generated message type,
//! which fields are Mesos `map<K, V>` fields, and paths that name a place in a message
//! for error reports.

use std::fmt;
use std::sync::OnceLock;

use prost_reflect::{DescriptorPool, FieldDescriptor, Kind, MessageDescriptor};

use crate::map_field::is_map_shape;
use crate::proto::FILE_DESCRIPTOR_SET;

/// The pool of every message, enum and file compiled from `proto/`.
pub fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(FILE_DESCRIPTOR_SET)
            .expect("the descriptor set written by build.rs is valid")
    })
}

/// Whether `field` is a `map<K, V>` field in Mesos' schema (the rule of `map_field`).
pub fn is_map_field(field: &FieldDescriptor) -> bool {
    let Kind::Message(entry) = field.kind() else {
        return false;
    };
    let entry_fields = entry.fields().len();
    is_map_shape(
        field.is_list(),
        entry.parent_message().as_ref() == Some(field.parent_message()),
        entry.name(),
        entry_fields,
        |number, name| entry.get_field(number).is_some_and(|f| f.name() == name),
    )
}

/// The descriptor of a message type by its full name, e.g. `mesos.v1.scheduler.Call`.
pub fn descriptor_by_name(full_name: &str) -> Option<MessageDescriptor> {
    pool().get_message_by_name(full_name)
}

/// The descriptor of a generated message type.
///
/// Every type generated from `proto/` is in the pool, so a miss is a build defect, not an
/// input error: it panics with the type's name.
pub fn descriptor_of<T: prost::Name>() -> MessageDescriptor {
    let name = T::full_name();
    descriptor_by_name(&name)
        .unwrap_or_else(|| panic!("{name} is not in the compiled Mesos schemas"))
}

/// One step of a path into a message: a field name, or an index into a repeated field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    /// A field, by its name in the schema.
    Field(String),
    /// An element of a repeated field.
    Index(usize),
    /// The value under a key of a map field.
    Key(String),
}

/// Where in a message something is, printed like `accept.operations[0].launch`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<PathSegment>);

impl FieldPath {
    /// This path extended by a field name.
    pub fn field(&self, name: &str) -> FieldPath {
        let mut segments = self.0.clone();
        segments.push(PathSegment::Field(name.to_string()));
        FieldPath(segments)
    }

    /// This path extended by a key of a map field.
    pub fn key(&self, key: &str) -> FieldPath {
        let mut segments = self.0.clone();
        segments.push(PathSegment::Key(key.to_string()));
        FieldPath(segments)
    }

    /// This path extended by an index into a repeated field.
    pub fn index(&self, index: usize) -> FieldPath {
        let mut segments = self.0.clone();
        segments.push(PathSegment::Index(index));
        FieldPath(segments)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("<message>");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                PathSegment::Field(name) if i == 0 => f.write_str(name)?,
                PathSegment::Field(name) => write!(f, ".{name}")?,
                PathSegment::Index(index) => write!(f, "[{index}]")?,
                PathSegment::Key(key) => write!(f, "[{key:?}]")?,
            }
        }
        Ok(())
    }
}

/// Joins paths for an error message: `framework_info.user, framework_info.name`.
pub(crate) fn join_paths(paths: &[FieldPath]) -> String {
    paths
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::mesos::v1::scheduler::Call;

    #[test]
    fn every_v1_package_is_in_the_pool() {
        for name in [
            "mesos.v1.Resource",
            "mesos.v1.scheduler.Call",
            "mesos.v1.executor.Event",
            "mesos.v1.master.Response",
            "mesos.v1.agent.Call",
            "mesos.v1.quota.QuotaConfig",
            "mesos.v1.maintenance.Schedule",
            "mesos.v1.allocator.InverseOfferStatus",
            "mesos.TaskInfo",
        ] {
            assert!(descriptor_by_name(name).is_some(), "{name} missing");
        }
        assert_eq!(
            descriptor_of::<Call>().full_name(),
            "mesos.v1.scheduler.Call"
        );
    }

    #[test]
    fn mesos_map_fields_are_maps() {
        for (message, field) in [
            ("mesos.v1.quota.QuotaConfig", "guarantees"),
            ("mesos.v1.quota.QuotaConfig", "limits"),
            ("mesos.v1.FrameworkInfo", "offer_filters"),
            ("mesos.v1.TaskInfo", "limits"),
            ("mesos.v1.scheduler.OfferConstraints", "role_constraints"),
        ] {
            let descriptor = descriptor_by_name(message).expect("message");
            let field = descriptor.get_field_by_name(field).expect("field");
            assert!(is_map_field(&field), "{}", field.full_name());
        }
        let labels = descriptor_by_name("mesos.v1.Labels").expect("Labels");
        assert!(!is_map_field(
            &labels.get_field_by_name("labels").expect("field")
        ));
    }

    #[test]
    fn paths_print_like_field_accessors() {
        let path = FieldPath::default()
            .field("accept")
            .field("operations")
            .index(2)
            .field("launch");
        assert_eq!(path.to_string(), "accept.operations[2].launch");
        assert_eq!(FieldPath::default().to_string(), "<message>");
    }
}
