//! RESERVE, UNRESERVE, CREATE and DESTROY offer operations (Mesos'
//! `validation::operation`).

use super::common::{
    stringify_set, validate_allocated_to_single_role, validate_resources,
    validate_single_resource_provider, validate_unique_persistence_id,
};
use super::framework::has_capability;
use crate::proto::mesos::v1 as pb;
use crate::proto::mesos::v1::framework_info::capability::Type as Capability;
use crate::resources::{Resource, Resources};

/// Parses and checks the resources of an operation, with Mesos' `Invalid resources: `
/// prefix on top of the resource check's own.
fn operation_resources(protos: &[pb::Resource]) -> Result<Resources, String> {
    let resources = validate_resources(protos).map_err(|e| format!("Invalid resources: {e}"))?;
    validate_single_resource_provider(&resources).map_err(|e| format!("Invalid resources: {e}"))?;
    Ok(resources)
}

/// Checks a framework's RESERVE of `resources` (each carrying the target reservation and
/// the offer's allocation), returning them parsed. `principal` is the authenticated one.
///
/// As Mesos: every resource is dynamically reserved, by `principal` when there is one;
/// allocated to one role of the framework, which is also the reservation role; all from
/// one resource provider and allocated to a single role.
pub fn validate_reserve(
    resources: &[pb::Resource],
    framework_roles: &[String],
    principal: Option<&str>,
) -> Result<Resources, String> {
    let parsed = operation_resources(resources)?;
    let roles = || stringify_set(framework_roles.iter().map(String::as_str));
    for resource in &parsed {
        if !resource.is_dynamically_reserved() {
            return Err(format!("Resource {resource} is not dynamically reserved"));
        }
        if let Some(principal) = principal {
            match resource.reservations().last().and_then(|r| r.principal()) {
                None => {
                    return Err(format!(
                        "A reserve operation was attempted by principal '{principal}', but \
                         there is a reserved resource in the request with no principal set"
                    ))
                }
                Some(p) if p != principal => {
                    return Err(format!(
                        "A reserve operation was attempted by authenticated principal \
                         '{principal}', which does not match a reserved resource in the \
                         request with principal '{p}'"
                    ))
                }
                Some(_) => {}
            }
        }
        let reservation_role = resource.reservation_role().unwrap_or("*");
        let Some(allocation_role) = resource.allocation_role() else {
            return Err(format!(
                "A reserve operation was attempted on unallocated resource {resource}, but \
                 frameworks can only perform reservations on allocated resources"
            ));
        };
        if allocation_role != reservation_role {
            return Err(format!(
                "A reserve operation was attempted for a resource with role \
                 '{reservation_role}', but the resource was allocated to role \
                 '{allocation_role}'"
            ));
        }
        if !framework_roles.iter().any(|r| r == allocation_role) {
            return Err(format!(
                "A reserve operation was attempted for a resource allocated to role \
                 '{allocation_role}', but the framework only has roles '{}'",
                roles()
            ));
        }
    }
    validate_allocated_to_single_role(&parsed)
        .map_err(|e| format!("Invalid reservation resources: {e}"))?;
    Ok(parsed)
}

/// Checks an UNRESERVE of `resources`, returning them parsed: each must be dynamically
/// reserved and not a persistent volume (destroy it first), all from one provider.
pub fn validate_unreserve(resources: &[pb::Resource]) -> Result<Resources, String> {
    let parsed = operation_resources(resources)?;
    for resource in &parsed {
        if !resource.is_dynamically_reserved() {
            return Err(format!("Resource {resource} is not dynamically reserved"));
        }
        if resource.is_persistent_volume() {
            return Err(format!(
                "A dynamically reserved persistent volume {resource} cannot be unreserved \
                 directly. Please destroy the persistent volume first then unreserve the \
                 resource"
            ));
        }
    }
    Ok(parsed)
}

/// Mesos' `validatePersistentVolume`, with its `Not a persistent volume: ` prefix.
fn validate_persistent_volumes(volumes: &Resources) -> Result<(), String> {
    for volume in volumes {
        let reason = match volume.disk() {
            None => Some(format!("Resource {volume} does not have DiskInfo")),
            Some(disk) if disk.persistence().is_none() => {
                Some("'persistence' is not set in DiskInfo".to_string())
            }
            Some(disk) => match disk.volume() {
                None => Some("Expecting 'volume' to be set for persistent volume".to_string()),
                Some(v) if v.mode == pb::volume::Mode::Ro as i32 => {
                    Some("Read-only persistent volume not supported".to_string())
                }
                Some(_) => None,
            },
        };
        if let Some(reason) = reason {
            return Err(format!("Not a persistent volume: {reason}"));
        }
    }
    Ok(())
}

/// Checks a framework's CREATE of persistent `volumes` on an agent whose checkpointed
/// resources are `checkpointed`, returning the volumes parsed. `principal` is the
/// authenticated one.
///
/// As Mesos: the volumes are valid, reserved, read-write persistent volumes from one
/// provider, with persistence IDs unique per role among them and the agent's; shared ones
/// need the SHARED_RESOURCES capability; with a principal, each volume's
/// `disk.persistence.principal` must be it; all are allocated to a single role.
pub fn validate_create(
    volumes: &[pb::Resource],
    checkpointed: &Resources,
    principal: Option<&str>,
    framework: &pb::FrameworkInfo,
) -> Result<Resources, String> {
    let parsed = operation_resources(volumes)?;
    validate_persistent_volumes(&parsed)?;
    validate_unique_persistence_id(&(checkpointed + &parsed))?;
    for volume in &parsed {
        if volume.is_shared() && !has_capability(framework, Capability::SharedResources) {
            return Err(format!(
                "Create volume operation for '{volume}' has been attempted by framework '{}' \
                 with no SHARED_RESOURCES capability",
                framework.id.as_ref().map_or("", |id| id.value.as_str())
            ));
        }
        if let Some(principal) = principal {
            match volume_principal(volume) {
                None => {
                    return Err(format!(
                        "Create volume operation attempted by principal '{principal}', but \
                         there is a volume in the operation with no principal set in \
                         'disk.persistence'"
                    ))
                }
                Some(p) if p != principal => {
                    return Err(format!(
                        "Create volume operation attempted by authenticated principal \
                         '{principal}', which does not match a volume in the operation with \
                         principal '{p}' set in 'disk.persistence'"
                    ))
                }
                Some(_) => {}
            }
        }
    }
    validate_allocated_to_single_role(&parsed)
        .map_err(|e| format!("Invalid volume resources: {e}"))?;
    Ok(parsed)
}

fn volume_principal(volume: &Resource) -> Option<&str> {
    volume.disk()?.persistence()?.principal.as_deref()
}

/// Checks a DESTROY of persistent `volumes` on an agent whose checkpointed resources are
/// `checkpointed` and whose tasks and executors use `used`, returning the volumes parsed.
///
/// As Mesos (comparing without allocation): valid persistent volumes from one provider,
/// each among the checkpointed resources (`Persistent volumes not found`; volumes of a
/// resource provider are exempt) and none in use (`Persistent volumes in use`).
pub fn validate_destroy(
    volumes: &[pb::Resource],
    checkpointed: &Resources,
    used: &Resources,
) -> Result<Resources, String> {
    let parsed = operation_resources(volumes)?;
    validate_persistent_volumes(&parsed)?;
    let mut checkpointed = checkpointed.clone();
    checkpointed.unallocate();
    let mut used = used.clone();
    used.unallocate();
    for volume in &parsed {
        let volume = volume.unallocate();
        if volume.provider_id().is_none() && !checkpointed.contains_resource(&volume) {
            return Err("Persistent volumes not found".to_string());
        }
        if used.contains_resource(&volume) {
            return Err("Persistent volumes in use".to_string());
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::super::common::tests::{scalar, volume};
    use super::super::framework::tests::multi_role;
    use super::*;

    fn reserved(name: &str, value: f64, role: &str, principal: Option<&str>) -> pb::Resource {
        let mut r = scalar(name, value, Some(role));
        r.reservations = vec![pb::resource::ReservationInfo {
            r#type: Some(pb::resource::reservation_info::Type::Dynamic as i32),
            role: Some(role.to_string()),
            principal: principal.map(str::to_string),
            labels: None,
        }];
        r
    }

    fn roles(rs: &[&str]) -> Vec<String> {
        rs.iter().map(|r| r.to_string()).collect()
    }

    fn parsed(protos: &[pb::Resource]) -> Resources {
        Resources::try_from_protos(protos).unwrap()
    }

    fn unallocated(protos: &[pb::Resource]) -> Resources {
        let mut r = parsed(protos);
        r.unallocate();
        r
    }

    #[test]
    fn reserve_valid() {
        let r = reserved("cpus", 1.0, "eng", Some("ops"));
        let out = validate_reserve(&[r], &roles(&["eng"]), Some("ops")).unwrap();
        assert_eq!(out.cpus().unwrap().to_string(), "1");
    }

    #[test]
    fn reserve_rules() {
        let eng = roles(&["eng"]);
        let err =
            |rs: &[pb::Resource], principal| validate_reserve(rs, &eng, principal).unwrap_err();

        let unreserved = scalar("cpus", 1.0, Some("eng"));
        assert!(err(&[unreserved], None).ends_with("is not dynamically reserved"));

        let no_principal = reserved("cpus", 1.0, "eng", None);
        assert!(err(&[no_principal], Some("ops"))
            .contains("there is a reserved resource in the request with no principal set"));

        let other = reserved("cpus", 1.0, "eng", Some("mallory"));
        assert!(err(&[other], Some("ops")).contains("with principal 'mallory'"));

        let mut unallocated = reserved("cpus", 1.0, "eng", None);
        unallocated.allocation_info = None;
        assert!(err(&[unallocated], None)
            .contains("frameworks can only perform reservations on allocated resources"));

        let mut mismatch = reserved("cpus", 1.0, "eng", None);
        mismatch.allocation_info = Some(pb::resource::AllocationInfo {
            role: Some("ops".into()),
        });
        assert!(err(&[mismatch], None)
            .contains("with role 'eng', but the resource was allocated to role 'ops'"));

        let foreign = reserved("cpus", 1.0, "web", None);
        assert!(err(&[foreign], None).contains("but the framework only has roles '{ eng }'"));

        let both = roles(&["eng", "web"]);
        let two_roles = [
            reserved("cpus", 1.0, "eng", None),
            reserved("mem", 1.0, "web", None),
        ];
        assert!(validate_reserve(&two_roles, &both, None)
            .unwrap_err()
            .starts_with("Invalid reservation resources: The resources have multiple"));

        let bad = scalar("cpus", -1.0, Some("eng"));
        assert!(err(&[bad], None).starts_with("Invalid resources: Invalid resources: "));
    }

    #[test]
    fn unreserve_rules() {
        let ok = reserved("cpus", 1.0, "eng", None);
        assert!(validate_unreserve(&[ok]).is_ok());
        let unreserved = scalar("cpus", 1.0, Some("eng"));
        assert!(validate_unreserve(&[unreserved])
            .unwrap_err()
            .ends_with("is not dynamically reserved"));
        assert!(validate_unreserve(&[volume("v1", 1.0, "eng")])
            .unwrap_err()
            .contains("cannot be unreserved directly"));
    }

    #[test]
    fn create_valid() {
        let fw = multi_role(&["eng"]);
        let out = validate_create(
            &[volume("v1", 10.0, "eng")],
            &Resources::new(),
            Some("ops"),
            &fw,
        )
        .unwrap();
        assert_eq!(out.persistent_volumes().len(), 1);
    }

    #[test]
    fn create_rules() {
        let fw = multi_role(&["eng"]);
        let none = Resources::new();
        let err = |v: pb::Resource, checkpointed: &Resources, principal| {
            validate_create(&[v], checkpointed, principal, &fw).unwrap_err()
        };

        let plain = reserved("disk", 1.0, "eng", None);
        assert_eq!(
            err(plain, &none, None),
            "Not a persistent volume: Resource disk(allocated: eng)(reservations: \
             [(DYNAMIC,eng)]):1 does not have DiskInfo"
        );

        let mut ro = volume("v1", 1.0, "eng");
        ro.disk.as_mut().unwrap().volume.as_mut().unwrap().mode = pb::volume::Mode::Ro as i32;
        assert_eq!(
            err(ro, &none, None),
            "Not a persistent volume: Read-only persistent volume not supported"
        );

        let existing = unallocated(&[volume("v1", 5.0, "eng")]);
        assert_eq!(
            err(volume("v1", 1.0, "eng"), &existing, None),
            "Persistence ID 'v1' is not unique"
        );

        let mut shared = volume("v1", 1.0, "eng");
        shared.shared = Some(pb::resource::SharedInfo {});
        assert!(err(shared, &none, None).contains("with no SHARED_RESOURCES capability"));

        let mut no_principal = volume("v1", 1.0, "eng");
        no_principal
            .disk
            .as_mut()
            .unwrap()
            .persistence
            .as_mut()
            .unwrap()
            .principal = None;
        assert!(err(no_principal, &none, Some("ops"))
            .contains("with no principal set in 'disk.persistence'"));
        assert!(err(volume("v1", 1.0, "eng"), &none, Some("dev"))
            .contains("which does not match a volume in the operation with principal 'ops'"));

        let mut unallocated_volume = volume("v1", 1.0, "eng");
        unallocated_volume.allocation_info = None;
        assert_eq!(
            err(unallocated_volume, &none, None),
            "Invalid volume resources: The resources are not allocated to a role"
        );
    }

    #[test]
    fn destroy_rules() {
        let v = volume("v1", 10.0, "eng");
        let vs = std::slice::from_ref(&v);
        let checkpointed = unallocated(&[v.clone(), scalar("cpus", 4.0, None)]);
        let out = validate_destroy(vs, &checkpointed, &Resources::new()).unwrap();
        assert_eq!(out.persistent_volumes().len(), 1);

        assert_eq!(
            validate_destroy(vs, &Resources::new(), &Resources::new()).unwrap_err(),
            "Persistent volumes not found"
        );
        assert_eq!(
            validate_destroy(vs, &checkpointed, &parsed(vs)).unwrap_err(),
            "Persistent volumes in use"
        );
        let plain = reserved("disk", 1.0, "eng", None);
        assert!(validate_destroy(&[plain], &checkpointed, &Resources::new())
            .unwrap_err()
            .starts_with("Not a persistent volume: "));
    }
}
