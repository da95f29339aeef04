//! Reservations: static (agent flag) and dynamic (RESERVE operation), and refined stacks.
//!
//! A resource carries a stack of reservations, bottom first. An empty stack means
//! unreserved. Each reservation above the bottom one *refines* it: it is DYNAMIC and for a
//! strict sub-role of the one below (`eng`, then `eng/web`). The top of the stack is the
//! role the resource is reserved for.

use std::fmt;

use super::error::ResourceError;
use super::role::{is_strict_subrole_of, validate_role, UNRESERVED_ROLE};
use crate::proto::mesos::v1 as pb;
use crate::proto::mesos::v1::resource::reservation_info::Type as PbReservationType;
use crate::proto::mesos::v1::resource::ReservationInfo;

/// One key/value label, as in `mesos.v1.Label`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label {
    /// The key.
    pub key: String,
    /// The value, if any.
    pub value: Option<String>,
}

/// Labels in canonical (sorted) order, so equality ignores the order they were given in,
/// as Mesos' `Labels` equality does.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Labels(Vec<Label>);

impl Labels {
    /// Builds labels from `(key, value)` pairs.
    pub fn new<I: IntoIterator<Item = Label>>(labels: I) -> Labels {
        let mut v: Vec<Label> = labels.into_iter().collect();
        v.sort_unstable();
        Labels(v)
    }

    /// Reads proto labels.
    pub fn from_proto(proto: &pb::Labels) -> Labels {
        Labels::new(proto.labels.iter().map(|l| Label {
            key: l.key.clone(),
            value: l.value.clone(),
        }))
    }

    /// Writes proto labels (in sorted order).
    pub fn to_proto(&self) -> pb::Labels {
        pb::Labels {
            labels: self
                .0
                .iter()
                .map(|l| pb::Label {
                    key: l.key.clone(),
                    value: l.value.clone(),
                })
                .collect(),
        }
    }

    /// The labels, sorted.
    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }
}

/// Writes Mesos' form: `{key: value, key}`.
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, l) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(&l.key)?;
            if let Some(v) = &l.value {
                write!(f, ": {v}")?;
            }
        }
        f.write_str("}")
    }
}

/// How a reservation was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReservationType {
    /// Made by the operator on the agent command line (`cpus(role):4`).
    Static,
    /// Made at runtime by a RESERVE operation.
    Dynamic,
}

impl ReservationType {
    /// The proto enum value.
    pub fn to_proto(self) -> PbReservationType {
        match self {
            ReservationType::Static => PbReservationType::Static,
            ReservationType::Dynamic => PbReservationType::Dynamic,
        }
    }
}

impl fmt::Display for ReservationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.to_proto().as_str_name())
    }
}

/// One reservation of a resource for a role.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reservation {
    kind: ReservationType,
    role: String,
    principal: Option<String>,
    labels: Option<Labels>,
}

impl Reservation {
    /// A static reservation for `role`; the role must be valid and not `*`.
    pub fn new_static(role: impl Into<String>) -> Result<Reservation, ResourceError> {
        let role = role.into();
        check_reservable(&role)?;
        Ok(Reservation {
            kind: ReservationType::Static,
            role,
            principal: None,
            labels: None,
        })
    }

    /// A dynamic reservation for `role`, made by `principal`, with optional labels.
    pub fn new_dynamic(
        role: impl Into<String>,
        principal: Option<String>,
        labels: Option<Labels>,
    ) -> Result<Reservation, ResourceError> {
        let role = role.into();
        check_reservable(&role)?;
        Ok(Reservation {
            kind: ReservationType::Dynamic,
            role,
            principal,
            labels,
        })
    }

    /// Reads one entry of `Resource.reservations` (the post-refinement format): `type` and
    /// `role` must be set, the type known, the role valid and not `*`.
    pub fn from_proto(info: &ReservationInfo) -> Result<Reservation, ResourceError> {
        let role = info
            .role
            .clone()
            .ok_or(ResourceError::ReservationRoleMissing)?;
        let raw = info
            .r#type
            .ok_or_else(|| ResourceError::ReservationTypeMissing(role.clone()))?;
        let kind = match PbReservationType::try_from(raw) {
            Ok(PbReservationType::Static) => ReservationType::Static,
            Ok(PbReservationType::Dynamic) => ReservationType::Dynamic,
            _ => return Err(ResourceError::ReservationTypeUnknown { role, value: raw }),
        };
        check_reservable(&role)?;
        Ok(Reservation {
            kind,
            role,
            principal: info.principal.clone(),
            labels: info.labels.as_ref().map(Labels::from_proto),
        })
    }

    /// Writes the reservation as a post-refinement `ReservationInfo` (type and role set).
    pub fn to_proto(&self) -> ReservationInfo {
        ReservationInfo {
            r#type: Some(self.kind.to_proto() as i32),
            role: Some(self.role.clone()),
            principal: self.principal.clone(),
            labels: self.labels.as_ref().map(Labels::to_proto),
        }
    }

    /// Static or dynamic.
    pub fn kind(&self) -> ReservationType {
        self.kind
    }

    /// The role reserved for.
    pub fn role(&self) -> &str {
        &self.role
    }

    /// The principal that made a dynamic reservation.
    pub fn principal(&self) -> Option<&str> {
        self.principal.as_deref()
    }

    /// The labels of the reservation.
    pub fn labels(&self) -> Option<&Labels> {
        self.labels.as_ref()
    }

    /// Whether this is a static reservation with no principal or labels, i.e. what
    /// `name(role):value` in `--resources` text produces.
    pub fn is_plain_static(&self) -> bool {
        self.kind == ReservationType::Static && self.principal.is_none() && self.labels.is_none()
    }
}

/// Writes Mesos' form: `STATIC,role` or `DYNAMIC,role,principal,{labels}`.
impl fmt::Display for Reservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{}", self.kind, self.role)?;
        if let Some(p) = &self.principal {
            write!(f, ",{p}")?;
        }
        if let Some(l) = &self.labels {
            write!(f, ",{l}")?;
        }
        Ok(())
    }
}

fn check_reservable(role: &str) -> Result<(), ResourceError> {
    validate_role(role)?;
    if role == UNRESERVED_ROLE {
        return Err(ResourceError::StarReserved);
    }
    Ok(())
}

/// Checks a reservation stack (bottom first): every reservation above the bottom one is
/// DYNAMIC and for a strict sub-role of the one below it. Roles are valid by construction.
pub fn validate_stack(stack: &[Reservation]) -> Result<(), ResourceError> {
    for pair in stack.windows(2) {
        let (below, above) = (&pair[0], &pair[1]);
        if above.kind == ReservationType::Static {
            return Err(ResourceError::RefinedStatic(above.role.clone()));
        }
        if !is_strict_subrole_of(&above.role, &below.role) {
            return Err(ResourceError::NotARefinement {
                role: above.role.clone(),
                ancestor: below.role.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dynamic(role: &str) -> Reservation {
        Reservation::new_dynamic(role, Some("ops".into()), None).unwrap()
    }

    #[test]
    fn refinement() {
        let eng = Reservation::new_static("eng").unwrap();
        assert_eq!(validate_stack(&[eng.clone(), dynamic("eng/web")]), Ok(()));
        assert_eq!(
            validate_stack(&[eng.clone(), dynamic("eng/web"), dynamic("eng/web/a")]),
            Ok(())
        );
        assert_eq!(
            validate_stack(&[eng.clone(), dynamic("eng")]),
            Err(ResourceError::NotARefinement {
                role: "eng".into(),
                ancestor: "eng".into()
            })
        );
        assert!(matches!(
            validate_stack(&[eng.clone(), dynamic("engineering")]),
            Err(ResourceError::NotARefinement { .. })
        ));
        assert!(matches!(
            validate_stack(&[dynamic("eng/web"), dynamic("eng")]),
            Err(ResourceError::NotARefinement { .. })
        ));
        let static_web = Reservation::new_static("eng/web").unwrap();
        assert_eq!(
            validate_stack(&[eng, static_web]),
            Err(ResourceError::RefinedStatic("eng/web".into()))
        );
    }

    #[test]
    fn star_and_invalid_roles_are_rejected() {
        assert_eq!(
            Reservation::new_static("*"),
            Err(ResourceError::StarReserved)
        );
        assert!(matches!(
            Reservation::new_static("a//b"),
            Err(ResourceError::Role(_))
        ));
    }

    #[test]
    fn proto_round_trip() {
        let labels = Labels::new([
            Label {
                key: "z".into(),
                value: None,
            },
            Label {
                key: "a".into(),
                value: Some("1".into()),
            },
        ]);
        let r = Reservation::new_dynamic("eng", Some("alice".into()), Some(labels)).unwrap();
        assert_eq!(Reservation::from_proto(&r.to_proto()).unwrap(), r);
        assert_eq!(r.to_string(), "DYNAMIC,eng,alice,{a: 1, z}");

        let mut info = r.to_proto();
        info.r#type = None;
        assert!(matches!(
            Reservation::from_proto(&info),
            Err(ResourceError::ReservationTypeMissing(_))
        ));
        info.r#type = Some(0);
        assert!(matches!(
            Reservation::from_proto(&info),
            Err(ResourceError::ReservationTypeUnknown { .. })
        ));
        info.role = None;
        assert_eq!(
            Reservation::from_proto(&info),
            Err(ResourceError::ReservationRoleMissing)
        );
    }
}
