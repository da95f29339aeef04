//! One resource: a name and value plus everything that decides what it can combine with.
//!
//! Everything except the value lives in a shared, immutable identity key
//! ([`Arc`]-allocated), so copying a resource between collections costs a reference count,
//! and two resources derived from the same origin compare equal by pointer before any
//! string is looked at. A [`Resource`] is always valid: the only ways to make one are the
//! validating constructors, the builder and [`Resource::from_proto`].

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use super::disk::DiskInfo;
use super::error::{ResourceError, ValueError};
use super::ranges::Ranges;
use super::reservation::{validate_stack, Labels, Reservation, ReservationType};
use super::role::{is_in_subtree, validate_role, UNRESERVED_ROLE};
use super::scalar::Scalar;
use super::set::Set;
use super::value::{Value, ValueType};
use crate::proto::mesos::v1 as pb;
use crate::proto::mesos::v1::value::Type as PbValueType;

/// The identity of a resource: two resources may be combined only if their keys are equal.
///
/// Field order is the sort order of [`super::Resources`], so name comes first and all
/// resources of one name are adjacent.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key {
    pub(crate) name: String,
    pub(crate) kind: ValueType,
    pub(crate) reservations: Vec<Reservation>,
    pub(crate) allocation: Option<String>,
    /// Boxed: a `DiskInfo` is hundreds of bytes, and most keys (every task's cpus and mem)
    /// have none.
    pub(crate) disk: Option<Box<DiskInfo>>,
    pub(crate) revocable: bool,
    pub(crate) shared: bool,
    pub(crate) provider: Option<String>,
}

impl Key {
    fn new(name: String, kind: ValueType) -> Key {
        Key {
            name,
            kind,
            reservations: Vec::new(),
            allocation: None,
            disk: None,
            revocable: false,
            shared: false,
            provider: None,
        }
    }

    /// Whether the key describes a persistent volume.
    pub(crate) fn is_volume(&self) -> bool {
        self.disk
            .as_ref()
            .is_some_and(|d| d.persistence().is_some())
    }

    /// Whether resources with this key are used only whole (see [`Resource::is_atomic`]).
    pub(crate) fn is_atomic(&self) -> bool {
        self.shared || self.disk.as_deref().is_some_and(DiskInfo::is_atomic)
    }
}

/// Compares keys, short-cutting on pointer equality.
pub(crate) fn cmp_keys(a: &Arc<Key>, b: &Arc<Key>) -> Ordering {
    if Arc::ptr_eq(a, b) {
        Ordering::Equal
    } else {
        a.as_ref().cmp(b.as_ref())
    }
}

/// A valid resource, e.g. `cpus(eng):2` or a 100 MB persistent volume.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Resource {
    pub(crate) key: Arc<Key>,
    pub(crate) value: Value,
}

impl Resource {
    /// An unreserved resource. The name must be non-empty and a scalar non-negative.
    pub fn new(
        name: impl Into<String>,
        value: impl Into<Value>,
    ) -> Result<Resource, ResourceError> {
        Resource::builder(name, value).build()
    }

    /// An unreserved scalar resource, e.g. `Resource::scalar("cpus", 2.0)`.
    pub fn scalar(name: impl Into<String>, value: f64) -> Result<Resource, ResourceError> {
        let name = name.into();
        let scalar = checked_scalar(&name, value)?;
        Resource::new(name, scalar)
    }

    /// An unreserved ranges resource from `(begin, end)` pairs, e.g. ports.
    pub fn ranges<I>(name: impl Into<String>, pairs: I) -> Result<Resource, ResourceError>
    where
        I: IntoIterator<Item = (u64, u64)>,
    {
        let name = name.into();
        let ranges = Ranges::from_pairs(pairs).map_err(|source| ResourceError::Value {
            name: name.clone(),
            source,
        })?;
        Resource::new(name, ranges)
    }

    /// An unreserved set resource.
    pub fn set<I, S>(name: impl Into<String>, items: I) -> Result<Resource, ResourceError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Resource::new(name, Set::from_items(items))
    }

    /// Starts building a resource with reservations, disk info, etc.
    pub fn builder(name: impl Into<String>, value: impl Into<Value>) -> ResourceBuilder {
        ResourceBuilder {
            name: name.into(),
            value: value.into(),
            reservations: Vec::new(),
            allocation: None,
            disk: None,
            revocable: false,
            shared: false,
            provider: None,
        }
    }

    /// The resource name (`cpus`, `mem`, `ports`, ...).
    pub fn name(&self) -> &str {
        &self.key.name
    }

    /// The value.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The kind of value.
    pub fn value_type(&self) -> ValueType {
        self.key.kind
    }

    /// The reservation stack, bottom first; empty when unreserved.
    pub fn reservations(&self) -> &[Reservation] {
        &self.key.reservations
    }

    /// The role the resource is reserved for (top of the stack), or `None` if unreserved.
    pub fn reservation_role(&self) -> Option<&str> {
        self.key.reservations.last().map(Reservation::role)
    }

    /// Whether the resource is unreserved.
    pub fn is_unreserved(&self) -> bool {
        self.key.reservations.is_empty()
    }

    /// Whether the resource is reserved, and (if `role` is given) reserved for exactly `role`.
    pub fn is_reserved(&self, role: Option<&str>) -> bool {
        match (self.reservation_role(), role) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(r), Some(role)) => r == role,
        }
    }

    /// Whether the resource is reserved for `role` or one of its descendants.
    pub fn is_reserved_to_role_subtree(&self, role: &str) -> bool {
        self.reservation_role()
            .is_some_and(|r| is_in_subtree(r, role))
    }

    /// Whether the top reservation is dynamic.
    pub fn is_dynamically_reserved(&self) -> bool {
        self.key
            .reservations
            .last()
            .is_some_and(|r| r.kind() == ReservationType::Dynamic)
    }

    /// Whether the stack is deeper than one (needs RESERVATION_REFINEMENT to be seen).
    pub fn has_refined_reservations(&self) -> bool {
        self.key.reservations.len() > 1
    }

    /// Whether a framework in `role` may be offered this resource: it is unreserved or
    /// reserved for `role` or an ancestor of it.
    pub fn is_allocatable_to(&self, role: &str) -> bool {
        match self.reservation_role() {
            None => true,
            Some(r) => is_in_subtree(role, r),
        }
    }

    /// The role the resource is allocated to, if any.
    pub fn allocation_role(&self) -> Option<&str> {
        self.key.allocation.as_deref()
    }

    /// Disk details, for `disk` resources.
    pub fn disk(&self) -> Option<&DiskInfo> {
        self.key.disk.as_deref()
    }

    /// Whether this is a persistent volume.
    pub fn is_persistent_volume(&self) -> bool {
        self.key.is_volume()
    }

    /// Whether the resource is revocable (may be taken back, e.g. oversubscribed).
    pub fn is_revocable(&self) -> bool {
        self.key.revocable
    }

    /// Whether the resource is shared (a persistent volume several tasks may use at once).
    pub fn is_shared(&self) -> bool {
        self.key.shared
    }

    /// The resource provider that offers it, if any.
    pub fn provider_id(&self) -> Option<&str> {
        self.key.provider.as_deref()
    }

    /// Whether the resource is used only whole, never merged with another or split:
    /// shared resources, persistent volumes, MOUNT and BLOCK disks, RAW disks with an id.
    pub fn is_atomic(&self) -> bool {
        self.key.is_atomic()
    }

    /// Whether the value is zero / holds nothing.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// The same resource with `reservation` pushed on top of its stack. Fails unless the
    /// result is a valid refinement (DYNAMIC, for a strict sub-role of the current top).
    pub fn push_reservation(&self, reservation: Reservation) -> Result<Resource, ResourceError> {
        let mut key = (*self.key).clone();
        key.reservations.push(reservation);
        validate_stack(&key.reservations)?;
        Ok(self.with_key(key))
    }

    /// The same resource with the top reservation removed. Fails if unreserved.
    pub fn pop_reservation(&self) -> Result<Resource, ResourceError> {
        if self.key.reservations.is_empty() {
            return Err(ResourceError::NothingToPop(self.key.name.clone()));
        }
        let mut key = (*self.key).clone();
        key.reservations.pop();
        Ok(self.with_key(key))
    }

    /// The same resource with no reservation.
    pub fn to_unreserved(&self) -> Resource {
        if self.key.reservations.is_empty() {
            return self.clone();
        }
        let mut key = (*self.key).clone();
        key.reservations.clear();
        self.with_key(key)
    }

    /// The same resource allocated to `role`.
    pub fn allocate(&self, role: &str) -> Resource {
        if self.key.allocation.as_deref() == Some(role) {
            return self.clone();
        }
        let mut key = (*self.key).clone();
        key.allocation = Some(role.to_string());
        self.with_key(key)
    }

    /// The same resource with no allocation.
    pub fn unallocate(&self) -> Resource {
        if self.key.allocation.is_none() {
            return self.clone();
        }
        let mut key = (*self.key).clone();
        key.allocation = None;
        self.with_key(key)
    }

    /// The same resource with a validated reservation stack replacing its own.
    pub(crate) fn with_reservations_unchecked(&self, stack: &[Reservation]) -> Resource {
        if self.key.reservations == stack {
            return self.clone();
        }
        let mut key = (*self.key).clone();
        key.reservations = stack.to_vec();
        self.with_key(key)
    }

    fn with_key(&self, key: Key) -> Resource {
        Resource {
            key: Arc::new(key),
            value: self.value.clone(),
        }
    }

    /// Reads and validates a proto `Resource` as Mesos does, accepting both the
    /// pre-refinement format (`role` + optional `reservation`) and the post-refinement
    /// `reservations` stack (or both, if consistent).
    pub fn from_proto(proto: &pb::Resource) -> Result<Resource, ResourceError> {
        let name = proto.name.clone();
        if name.is_empty() {
            return Err(ResourceError::EmptyName);
        }
        let value = value_from_proto(&name, proto)?;
        let mut key = Key::new(name, value.value_type());

        if let Some(disk) = &proto.disk {
            if key.name != "disk" {
                return Err(ResourceError::DiskInfoOnNonDisk(key.name));
            }
            key.disk = Some(Box::new(DiskInfo::from_proto(disk)?));
        }

        key.reservations = reservations_from_proto(proto)?;

        if let Some(alloc) = &proto.allocation_info {
            key.allocation = Some(
                alloc
                    .role
                    .clone()
                    .ok_or(ResourceError::AllocationWithoutRole)?,
            );
        }
        key.revocable = proto.revocable.is_some();
        key.shared = proto.shared.is_some();
        if key.shared && !key.is_volume() {
            return Err(ResourceError::SharedNotVolume(key.name));
        }
        key.provider = proto.provider_id.as_ref().map(|p| p.value.clone());

        Ok(Resource {
            key: Arc::new(key),
            value,
        })
    }

    /// Writes the post-refinement format: the `reservations` stack, `role` and
    /// `reservation` unset.
    pub fn to_proto(&self) -> pb::Resource {
        let mut proto = self.proto_without_reservations();
        proto.reservations = self
            .key
            .reservations
            .iter()
            .map(Reservation::to_proto)
            .collect();
        proto
    }

    /// Writes the pre-refinement format (`role`, plus `reservation` when dynamically
    /// reserved), for frameworks without the RESERVATION_REFINEMENT capability. Fails when
    /// the stack is deeper than one.
    // `Resource.role` is deprecated in the schema; writing it is the point here.
    #[allow(deprecated)]
    pub fn to_proto_pre_refinement(&self) -> Result<pb::Resource, ResourceError> {
        let mut proto = self.proto_without_reservations();
        match self.key.reservations.as_slice() {
            [] => proto.role = Some(UNRESERVED_ROLE.to_string()),
            [r] => {
                proto.role = Some(r.role().to_string());
                if r.kind() == ReservationType::Dynamic {
                    proto.reservation = Some(pb::resource::ReservationInfo {
                        r#type: None,
                        role: None,
                        principal: r.principal().map(str::to_string),
                        labels: r.labels().map(Labels::to_proto),
                    });
                }
            }
            stack => {
                return Err(ResourceError::RefinedForLegacyFormat {
                    name: self.key.name.clone(),
                    depth: stack.len(),
                })
            }
        }
        Ok(proto)
    }

    fn proto_without_reservations(&self) -> pb::Resource {
        let mut proto = pb::Resource {
            name: self.key.name.clone(),
            r#type: self.key.kind.to_proto() as i32,
            ..Default::default()
        };
        match &self.value {
            Value::Scalar(s) => {
                proto.scalar = Some(pb::value::Scalar { value: s.as_f64() });
            }
            Value::Ranges(r) => proto.ranges = Some(r.to_proto()),
            Value::Set(s) => proto.set = Some(s.to_proto()),
        }
        proto.allocation_info =
            self.key
                .allocation
                .as_ref()
                .map(|role| pb::resource::AllocationInfo {
                    role: Some(role.clone()),
                });
        proto.disk = self.key.disk.as_ref().map(|d| Box::new(d.to_proto()));
        proto.revocable = self.key.revocable.then_some(pb::resource::RevocableInfo {});
        proto.shared = self.key.shared.then_some(pb::resource::SharedInfo {});
        proto.provider_id = self
            .key
            .provider
            .as_ref()
            .map(|value| pb::ResourceProviderId {
                value: value.clone(),
            });
        proto
    }
}

impl PartialOrd for Resource {
    fn partial_cmp(&self, other: &Resource) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Orders by identity key, then value.
impl Ord for Resource {
    fn cmp(&self, other: &Resource) -> Ordering {
        cmp_keys(&self.key, &other.key).then_with(|| self.value.cmp(&other.value))
    }
}

impl TryFrom<&pb::Resource> for Resource {
    type Error = ResourceError;
    fn try_from(proto: &pb::Resource) -> Result<Resource, ResourceError> {
        Resource::from_proto(proto)
    }
}

impl From<&Resource> for pb::Resource {
    fn from(resource: &Resource) -> pb::Resource {
        resource.to_proto()
    }
}

/// Writes Mesos' text form.
///
/// A resource unreserved or with a single plain static reservation prints as the agent's
/// `--resources` syntax does (`cpus:2`, `cpus(eng):2`), which parses back. Anything else
/// prints as Mesos 1.11 logs it, e.g.
/// `disk(allocated: eng)(reservations: [(STATIC,eng),(DYNAMIC,eng/web,alice)])[MOUNT:/m,v1:data]{REV}<SHARED>:100`.
impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = &self.key;
        f.write_str(&key.name)?;
        if let Some(role) = &key.allocation {
            write!(f, "(allocated: {role})")?;
        }
        match key.reservations.as_slice() {
            [] => {}
            [r] if r.is_plain_static() => write!(f, "({})", r.role())?,
            stack => {
                f.write_str("(reservations: [")?;
                for (i, r) in stack.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "({r})")?;
                }
                f.write_str("])")?;
            }
        }
        if let Some(disk) = &key.disk {
            write!(f, "[{disk}]")?;
        }
        if key.revocable {
            f.write_str("{REV}")?;
        }
        if key.shared {
            f.write_str("<SHARED>")?;
        }
        write!(f, ":{}", self.value)
    }
}

/// Builds a [`Resource`] with reservations, allocation, disk info and flags, validating
/// the combination in [`ResourceBuilder::build`].
#[derive(Clone, Debug)]
pub struct ResourceBuilder {
    name: String,
    value: Value,
    reservations: Vec<Reservation>,
    allocation: Option<String>,
    disk: Option<DiskInfo>,
    revocable: bool,
    shared: bool,
    provider: Option<String>,
}

impl ResourceBuilder {
    /// Pushes a reservation on top of the stack.
    pub fn reservation(mut self, reservation: Reservation) -> ResourceBuilder {
        self.reservations.push(reservation);
        self
    }

    /// Replaces the whole reservation stack (bottom first).
    pub fn reservations(mut self, stack: Vec<Reservation>) -> ResourceBuilder {
        self.reservations = stack;
        self
    }

    /// Allocates the resource to `role`.
    pub fn allocation(mut self, role: impl Into<String>) -> ResourceBuilder {
        self.allocation = Some(role.into());
        self
    }

    /// Sets disk info (only valid on `disk`).
    pub fn disk(mut self, disk: DiskInfo) -> ResourceBuilder {
        self.disk = Some(disk);
        self
    }

    /// Marks the resource revocable.
    pub fn revocable(mut self) -> ResourceBuilder {
        self.revocable = true;
        self
    }

    /// Marks the resource shared (only valid on persistent volumes).
    pub fn shared(mut self) -> ResourceBuilder {
        self.shared = true;
        self
    }

    /// Sets the resource provider id.
    pub fn provider(mut self, id: impl Into<String>) -> ResourceBuilder {
        self.provider = Some(id.into());
        self
    }

    /// Validates and builds: name non-empty, scalar non-negative, disk info only on
    /// `disk`, a valid refinement stack, `shared` only on persistent volumes.
    pub fn build(self) -> Result<Resource, ResourceError> {
        if self.name.is_empty() {
            return Err(ResourceError::EmptyName);
        }
        if let Value::Scalar(s) = self.value {
            if s.millis() < 0 {
                return Err(ResourceError::Value {
                    name: self.name,
                    source: ValueError::Negative(s.as_f64()),
                });
            }
        }
        if self.disk.is_some() && self.name != "disk" {
            return Err(ResourceError::DiskInfoOnNonDisk(self.name));
        }
        validate_stack(&self.reservations)?;
        if self.shared && self.disk.as_ref().is_none_or(|d| d.persistence().is_none()) {
            return Err(ResourceError::SharedNotVolume(self.name));
        }
        let key = Key {
            kind: self.value.value_type(),
            name: self.name,
            reservations: self.reservations,
            allocation: self.allocation,
            disk: self.disk.map(Box::new),
            revocable: self.revocable,
            shared: self.shared,
            provider: self.provider,
        };
        Ok(Resource {
            key: Arc::new(key),
            value: self.value,
        })
    }
}

/// Converts a float as resources require: finite, representable, not negative, and not a
/// non-zero value that would round to zero.
pub(crate) fn resource_scalar(value: f64) -> Result<Scalar, ValueError> {
    let scalar = Scalar::from_f64(value)?;
    if value < 0.0 {
        return Err(ValueError::Negative(value));
    }
    if value != 0.0 && scalar.is_zero() {
        return Err(ValueError::RoundsToZero(value));
    }
    Ok(scalar)
}

/// [`resource_scalar`], with the error naming the resource.
fn checked_scalar(name: &str, value: f64) -> Result<Scalar, ResourceError> {
    resource_scalar(value).map_err(|source| ResourceError::Value {
        name: name.to_string(),
        source,
    })
}

fn value_from_proto(name: &str, proto: &pb::Resource) -> Result<Value, ResourceError> {
    let kind = match PbValueType::try_from(proto.r#type) {
        Ok(PbValueType::Scalar) => ValueType::Scalar,
        Ok(PbValueType::Ranges) => ValueType::Ranges,
        Ok(PbValueType::Set) => ValueType::Set,
        Ok(PbValueType::Text) => return Err(ResourceError::TextNotSupported(name.to_string())),
        Err(_) => {
            return Err(ResourceError::UnknownType {
                name: name.to_string(),
                value: proto.r#type,
            })
        }
    };
    let mismatch = || ResourceError::ValueFieldMismatch {
        name: name.to_string(),
        declared: kind,
    };
    let value_err = |source| ResourceError::Value {
        name: name.to_string(),
        source,
    };
    match (kind, &proto.scalar, &proto.ranges, &proto.set) {
        (ValueType::Scalar, Some(s), None, None) => {
            Ok(Value::Scalar(checked_scalar(name, s.value)?))
        }
        (ValueType::Ranges, None, Some(r), None) => {
            Ok(Value::Ranges(Ranges::from_proto(r).map_err(value_err)?))
        }
        (ValueType::Set, None, None, Some(s)) => {
            Ok(Value::Set(Set::from_proto(s).map_err(value_err)?))
        }
        _ => Err(mismatch()),
    }
}

/// Reads the reservation fields of either format into a validated stack.
// `Resource.role` is deprecated in the schema; reading the old format needs it.
#[allow(deprecated)]
fn reservations_from_proto(proto: &pb::Resource) -> Result<Vec<Reservation>, ResourceError> {
    if proto.reservations.is_empty() {
        // Pre-refinement format: `role` (default "*") and optional `reservation`.
        let role = proto.role.as_deref().unwrap_or(UNRESERVED_ROLE);
        validate_role(role)?;
        return match &proto.reservation {
            None if role == UNRESERVED_ROLE => Ok(Vec::new()),
            None => Ok(vec![Reservation::new_static(role)?]),
            Some(info) => {
                if info.r#type.is_some() {
                    return Err(ResourceError::LegacyReservationType);
                }
                if info.role.is_some() {
                    return Err(ResourceError::LegacyReservationRole);
                }
                if role == UNRESERVED_ROLE {
                    return Err(ResourceError::StarDynamicallyReserved);
                }
                Ok(vec![Reservation::new_dynamic(
                    role,
                    info.principal.clone(),
                    info.labels.as_ref().map(Labels::from_proto),
                )?])
            }
        };
    }

    let stack = proto
        .reservations
        .iter()
        .map(Reservation::from_proto)
        .collect::<Result<Vec<_>, _>>()?;
    validate_stack(&stack)?;

    if let [only] = stack.as_slice() {
        if let Some(legacy) = &proto.role {
            if legacy != only.role() {
                return Err(ResourceError::LegacyRoleMismatch {
                    legacy: legacy.clone(),
                    role: only.role().to_string(),
                });
            }
        }
        match only.kind() {
            ReservationType::Static => {
                if proto.reservation.is_some() {
                    return Err(ResourceError::LegacyReservationMismatch(
                        "'reservation' must not be set for a STATIC reservation",
                    ));
                }
            }
            ReservationType::Dynamic => {
                if proto.role.is_some() != proto.reservation.is_some() {
                    return Err(ResourceError::LegacyReservationMismatch(
                        "'role' and 'reservation' must both be set or both be unset",
                    ));
                }
                if let Some(legacy) = &proto.reservation {
                    if legacy.principal.as_deref().unwrap_or("") != only.principal().unwrap_or("") {
                        return Err(ResourceError::LegacyReservationMismatch(
                            "principals differ",
                        ));
                    }
                    let legacy_labels = legacy
                        .labels
                        .as_ref()
                        .map(Labels::from_proto)
                        .unwrap_or_default();
                    let labels = only.labels().cloned().unwrap_or_default();
                    if legacy_labels != labels {
                        return Err(ResourceError::LegacyReservationMismatch("labels differ"));
                    }
                }
            }
        }
    } else if proto.role.is_some() || proto.reservation.is_some() {
        return Err(ResourceError::LegacyWithRefinedStack);
    }
    Ok(stack)
}

#[cfg(test)]
#[allow(deprecated)] // the tests build pre-refinement protos with `Resource.role`
mod tests {
    use super::*;
    use crate::proto::mesos::v1::resource::reservation_info::Type as PbReservationType;
    use crate::proto::mesos::v1::resource::ReservationInfo;

    /// Every task's resources hold keys, one allocation each: a disk's details must not
    /// make the key of every cpus and mem that large.
    #[test]
    fn a_key_without_disk_info_is_small() {
        assert!(
            std::mem::size_of::<Key>() <= 128,
            "Key is {} bytes",
            std::mem::size_of::<Key>()
        );
        let volume = Resource::builder("disk", Scalar::from_f64(1.0).unwrap())
            .disk(DiskInfo::new().with_persistence("v1", None))
            .build()
            .unwrap();
        assert!(volume.key.is_volume());
        assert!(Resource::from_proto(&volume.to_proto())
            .unwrap()
            .key
            .is_volume());
    }

    fn scalar_proto(name: &str, v: f64) -> pb::Resource {
        pb::Resource {
            name: name.into(),
            r#type: PbValueType::Scalar as i32,
            scalar: Some(pb::value::Scalar { value: v }),
            ..Default::default()
        }
    }

    fn info(
        kind: Option<PbReservationType>,
        role: Option<&str>,
        principal: Option<&str>,
    ) -> ReservationInfo {
        ReservationInfo {
            r#type: kind.map(|k| k as i32),
            role: role.map(str::to_string),
            principal: principal.map(str::to_string),
            labels: None,
        }
    }

    #[test]
    fn pre_refinement_static_is_upgraded() {
        let mut p = scalar_proto("cpus", 2.0);
        p.role = Some("eng".into());
        let r = Resource::from_proto(&p).unwrap();
        assert_eq!(r.reservations().len(), 1);
        assert_eq!(r.reservations()[0].kind(), ReservationType::Static);
        let out = r.to_proto();
        assert_eq!(out.role, None);
        assert_eq!(out.reservations.len(), 1);
        assert_eq!(
            r.to_proto_pre_refinement().unwrap().role.as_deref(),
            Some("eng")
        );
    }

    #[test]
    fn pre_refinement_dynamic_is_upgraded_and_downgraded() {
        let mut p = scalar_proto("cpus", 2.0);
        p.role = Some("eng".into());
        p.reservation = Some(info(None, None, Some("alice")));
        let r = Resource::from_proto(&p).unwrap();
        assert!(r.is_dynamically_reserved());
        assert_eq!(r.reservations()[0].principal(), Some("alice"));
        let back = r.to_proto_pre_refinement().unwrap();
        assert_eq!(back.role.as_deref(), Some("eng"));
        assert_eq!(
            back.reservation.unwrap().principal.as_deref(),
            Some("alice")
        );
        assert!(back.reservations.is_empty());
    }

    #[test]
    fn unreserved_pre_refinement_has_star_role() {
        let r = Resource::from_proto(&scalar_proto("cpus", 1.0)).unwrap();
        assert!(r.is_unreserved());
        assert_eq!(
            r.to_proto_pre_refinement().unwrap().role.as_deref(),
            Some("*")
        );
    }

    #[test]
    fn legacy_reservation_errors() {
        let mut p = scalar_proto("cpus", 1.0);
        p.reservation = Some(info(None, None, Some("a")));
        assert_eq!(
            Resource::from_proto(&p),
            Err(ResourceError::StarDynamicallyReserved)
        );
        p.role = Some("eng".into());
        p.reservation = Some(info(Some(PbReservationType::Dynamic), None, None));
        assert_eq!(
            Resource::from_proto(&p),
            Err(ResourceError::LegacyReservationType)
        );
        p.reservation = Some(info(None, Some("eng"), None));
        assert_eq!(
            Resource::from_proto(&p),
            Err(ResourceError::LegacyReservationRole)
        );
        p.reservation = None;
        p.role = Some("a//b".into());
        assert!(matches!(
            Resource::from_proto(&p),
            Err(ResourceError::Role(_))
        ));
    }

    #[test]
    fn refined_stack_validation() {
        let mut p = scalar_proto("cpus", 1.0);
        p.reservations = vec![
            info(Some(PbReservationType::Static), Some("eng"), None),
            info(Some(PbReservationType::Dynamic), Some("eng/web"), Some("p")),
        ];
        let r = Resource::from_proto(&p).unwrap();
        assert_eq!(r.reservation_role(), Some("eng/web"));
        assert!(r.has_refined_reservations());
        assert!(matches!(
            r.to_proto_pre_refinement(),
            Err(ResourceError::RefinedForLegacyFormat { depth: 2, .. })
        ));

        p.reservations[1].role = Some("ops".into());
        assert!(matches!(
            Resource::from_proto(&p),
            Err(ResourceError::NotARefinement { .. })
        ));

        p.reservations[1] = info(Some(PbReservationType::Static), Some("eng/web"), None);
        assert!(matches!(
            Resource::from_proto(&p),
            Err(ResourceError::RefinedStatic(_))
        ));

        p.reservations[1] = info(Some(PbReservationType::Dynamic), Some("eng/web"), None);
        p.role = Some("eng/web".into());
        assert_eq!(
            Resource::from_proto(&p),
            Err(ResourceError::LegacyWithRefinedStack)
        );
    }

    #[test]
    fn both_formats_must_agree() {
        let mut p = scalar_proto("cpus", 1.0);
        p.reservations = vec![info(
            Some(PbReservationType::Dynamic),
            Some("eng"),
            Some("a"),
        )];
        p.role = Some("eng".into());
        p.reservation = Some(info(None, None, Some("a")));
        assert!(Resource::from_proto(&p).is_ok());
        p.reservation = Some(info(None, None, Some("b")));
        assert!(matches!(
            Resource::from_proto(&p),
            Err(ResourceError::LegacyReservationMismatch(_))
        ));
        p.role = Some("ops".into());
        assert!(matches!(
            Resource::from_proto(&p),
            Err(ResourceError::LegacyRoleMismatch { .. })
        ));
        p.role = None;
        assert!(matches!(
            Resource::from_proto(&p),
            Err(ResourceError::LegacyReservationMismatch(_))
        ));
    }

    #[test]
    fn value_validation() {
        let check = |p: pb::Resource| Resource::from_proto(&p);
        assert!(matches!(
            check(scalar_proto("cpus", -1.0)),
            Err(ResourceError::Value {
                source: ValueError::Negative(_),
                ..
            })
        ));
        assert!(matches!(
            check(scalar_proto("cpus", f64::NAN)),
            Err(ResourceError::Value {
                source: ValueError::NotFinite(_),
                ..
            })
        ));
        assert!(matches!(
            check(scalar_proto("cpus", 0.0001)),
            Err(ResourceError::Value {
                source: ValueError::RoundsToZero(_),
                ..
            })
        ));
        assert_eq!(check(scalar_proto("", 1.0)), Err(ResourceError::EmptyName));

        let mut p = scalar_proto("ports", 1.0);
        p.r#type = PbValueType::Ranges as i32;
        assert!(matches!(
            check(p.clone()),
            Err(ResourceError::ValueFieldMismatch { .. })
        ));
        p.r#type = PbValueType::Text as i32;
        assert!(matches!(
            check(p.clone()),
            Err(ResourceError::TextNotSupported(_))
        ));
        p.r#type = 42;
        assert!(matches!(
            check(p),
            Err(ResourceError::UnknownType { value: 42, .. })
        ));

        let mut p = scalar_proto("cpus", 1.0);
        p.disk = Some(Box::new(DiskInfo::new().to_proto()));
        assert!(matches!(check(p), Err(ResourceError::DiskInfoOnNonDisk(_))));

        let mut p = scalar_proto("disk", 1.0);
        p.shared = Some(pb::resource::SharedInfo {});
        assert!(matches!(check(p), Err(ResourceError::SharedNotVolume(_))));
    }

    #[test]
    fn proto_round_trip_of_a_volume() {
        let r = Resource::builder("disk", Scalar::from_units(100))
            .reservation(Reservation::new_dynamic("eng", Some("p".into()), None).unwrap())
            .disk(DiskInfo::new().with_persistence("v1", Some("p".into())))
            .shared()
            .allocation("eng")
            .provider("rp1")
            .build()
            .unwrap();
        assert_eq!(Resource::from_proto(&r.to_proto()).unwrap(), r);
        assert_eq!(
            r.to_string(),
            "disk(allocated: eng)(reservations: [(DYNAMIC,eng,p)])[v1]<SHARED>:100"
        );
    }

    #[test]
    fn push_and_pop() {
        let r = Resource::scalar("cpus", 1.0).unwrap();
        let eng = r
            .push_reservation(Reservation::new_static("eng").unwrap())
            .unwrap();
        assert_eq!(eng.to_string(), "cpus(eng):1");
        let web = eng
            .push_reservation(Reservation::new_dynamic("eng/web", None, None).unwrap())
            .unwrap();
        assert_eq!(web.reservation_role(), Some("eng/web"));
        assert!(eng
            .push_reservation(Reservation::new_dynamic("ops", None, None).unwrap())
            .is_err());
        assert_eq!(web.pop_reservation().unwrap(), eng);
        assert_eq!(web.to_unreserved(), r);
        assert!(matches!(
            r.pop_reservation(),
            Err(ResourceError::NothingToPop(_))
        ));
        assert!(web.is_allocatable_to("eng/web"));
        assert!(web.is_allocatable_to("eng/web/x"));
        assert!(!web.is_allocatable_to("eng"));
    }
}
