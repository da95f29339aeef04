//! Checks shared by the call, task and operation validators: IDs, resources, commands and
//! health checks (Mesos' `common/validation.cpp` and the `resource` namespace of
//! `master/validation.cpp`).

use std::collections::{BTreeMap, BTreeSet};

use crate::proto::mesos::v1 as pb;
use crate::resources::{Resource, Resources, Value};

/// The longest ID Mesos accepts (`NAME_MAX`): IDs become directory names.
const MAX_ID_LEN: usize = 255;

/// Checks an ID (task, executor, framework, agent, persistence) as Mesos' `validateID`:
/// non-empty, at most 255 bytes, not `.` or `..`, no control characters and no `/` or `\`.
pub(super) fn validate_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("ID must not be empty".to_string());
    }
    if id.len() > MAX_ID_LEN {
        return Err(format!(
            "ID must not be greater than {MAX_ID_LEN} characters"
        ));
    }
    if id == "." || id == ".." {
        return Err(format!("'{id}' is disallowed"));
    }
    if id
        .bytes()
        .any(|b| b.is_ascii_control() || b == b'/' || b == b'\\')
    {
        return Err(format!("'{id}' contains invalid characters"));
    }
    Ok(())
}

/// Writes a set of strings as stout's `stringify(set)` does: `{ a, b }`.
pub(super) fn stringify_set<'a, I: IntoIterator<Item = &'a str>>(items: I) -> String {
    let sorted: BTreeSet<&str> = items.into_iter().collect();
    let joined: Vec<&str> = sorted.into_iter().collect();
    format!("{{ {} }}", joined.join(", "))
}

/// Mesos' `resource::validate`: each resource valid, `gpus` whole, disk info sensible and
/// no dynamic reservation of revocable resources. Returns the parsed collection.
pub(super) fn validate_resources(protos: &[pb::Resource]) -> Result<Resources, String> {
    let resources =
        Resources::try_from_protos(protos).map_err(|e| format!("Invalid resources: {e}"))?;
    validate_gpus(&resources)?;
    for resource in &resources {
        validate_disk_info(resource).map_err(|e| format!("Invalid DiskInfo: {e}"))?;
        if resource.is_dynamically_reserved() && resource.is_revocable() {
            return Err(format!(
                "Invalid ReservationInfo: Dynamically reserved resource {resource} cannot be \
                 created from revocable resources"
            ));
        }
    }
    Ok(resources)
}

/// `gpus` must be a whole number.
pub(super) fn validate_gpus(resources: &Resources) -> Result<(), String> {
    let gpus = resources.gpus().map_or(0.0, |s| s.as_f64());
    // Scalars have three decimals; a whole number has none.
    if (gpus * 1000.0).round() as i64 % 1000 != 0 {
        return Err(
            "Invalid 'gpus' resource: The 'gpus' resource must be an unsigned integer".to_string(),
        );
    }
    Ok(())
}

fn validate_disk_info(resource: &Resource) -> Result<(), String> {
    let Some(disk) = resource.disk() else {
        return Ok(());
    };
    if let Some(persistence) = disk.persistence() {
        if resource.is_revocable() {
            return Err("Persistent volumes cannot be created from revocable resources".into());
        }
        if resource.is_unreserved() {
            return Err("Persistent volumes cannot be created from unreserved resources".into());
        }
        let Some(volume) = disk.volume() else {
            return Err("Expecting 'volume' to be set for persistent volume".into());
        };
        if volume.host_path.is_some() {
            return Err("Expecting 'host_path' to be unset for persistent volume".into());
        }
        validate_id(&persistence.id)
            .map_err(|e| format!("Invalid persistence ID for persistent volume: {e}"))?;
    } else if disk.volume().is_some() {
        return Err("Non-persistent volume not supported".into());
    } else if disk.source().is_none() {
        return Err("DiskInfo is set but empty".into());
    }
    Ok(())
}

/// Persistence IDs must be unique per reservation role.
pub(super) fn validate_unique_persistence_id(resources: &Resources) -> Result<(), String> {
    let mut seen: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for volume in resources.iter().filter(|r| r.is_persistent_volume()) {
        let role = volume.reservation_role().unwrap_or("*");
        let Some(persistence) = volume.disk().and_then(|d| d.persistence()) else {
            continue;
        };
        if !seen.entry(role).or_default().insert(&persistence.id) {
            return Err(format!("Persistence ID '{}' is not unique", persistence.id));
        }
    }
    Ok(())
}

/// All resources carry `allocation_info` with one and the same role.
pub(super) fn validate_allocated_to_single_role(resources: &Resources) -> Result<(), String> {
    let mut first: Option<&str> = None;
    for resource in resources {
        let Some(role) = resource.allocation_role() else {
            return Err("The resources are not allocated to a role".to_string());
        };
        match first {
            None => first = Some(role),
            Some(other) if other != role => {
                return Err(format!(
                    "The resources have multiple allocation roles ('{role}' and '{other}') but \
                     only one allocation role is allowed"
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Revocable and non-revocable resources of one name may not be used together.
pub(super) fn validate_revocable_mix(resources: &Resources) -> Result<(), String> {
    for name in resources.names() {
        let named = resources.get(name);
        let revocable = named.revocable();
        if !revocable.is_empty() && revocable != named {
            return Err(format!(
                "Cannot use both revocable and non-revocable '{name}' at the same time"
            ));
        }
    }
    Ok(())
}

/// Whether ranges or sets of the parts overlap: the summed sizes of the parts differ from
/// the sizes of their sum (Mesos' `detectOverlappingSetAndRangeResources`).
pub(super) fn overlapping(parts: &[&Resources]) -> bool {
    fn sizes(resources: &Resources, out: &mut BTreeMap<String, u128>) {
        for resource in resources {
            let size = match resource.value() {
                Value::Scalar(_) => continue,
                Value::Ranges(r) => r.size(),
                Value::Set(s) => s.len() as u128,
            };
            *out.entry(resource.name().to_string()).or_default() += size;
        }
    }
    let mut separate = BTreeMap::new();
    let mut total = Resources::new();
    for part in parts {
        sizes(part, &mut separate);
        total += *part;
    }
    let mut together = BTreeMap::new();
    sizes(&total, &mut together);
    separate != together
}

/// All resources come from the same resource provider (or all from the agent).
pub(super) fn validate_single_resource_provider(resources: &Resources) -> Result<(), String> {
    let providers: BTreeSet<Option<&str>> = resources.iter().map(|r| r.provider_id()).collect();
    if providers.len() <= 1 {
        return Ok(());
    }
    if providers.contains(&None) {
        return Err("Some resources have a resource provider and some do not".to_string());
    }
    let ids: Vec<&str> = providers.into_iter().flatten().collect();
    Err(format!(
        "The resources have multiple resource providers: {}",
        ids.join(", ")
    ))
}

/// Mesos' `validateCommandInfo`: today, only the environment.
pub(super) fn validate_command_info(command: &pb::CommandInfo) -> Result<(), String> {
    use pb::environment::variable::Type;
    let Some(environment) = &command.environment else {
        return Ok(());
    };
    for variable in &environment.variables {
        let name = &variable.name;
        match variable.r#type() {
            Type::Secret => {
                let Some(secret) = &variable.secret else {
                    return Err(format!(
                        "Environment variable '{name}' of type 'SECRET' must have a secret set"
                    ));
                };
                if variable.value.is_some() {
                    return Err(format!(
                        "Environment variable '{name}' of type 'SECRET' must not have a value set"
                    ));
                }
                validate_secret(secret).map_err(|e| {
                    format!("Environment variable '{name}' specifies an invalid secret: {e}")
                })?;
                if secret.value.as_ref().is_some_and(|v| v.data.contains(&0)) {
                    return Err(format!(
                        "Environment variable '{name}' specifies a secret containing null bytes, \
                         which is not allowed in the environment"
                    ));
                }
            }
            Type::Value => {
                if variable.value.is_none() {
                    return Err(format!(
                        "Environment variable '{name}' of type 'VALUE' must have a value set"
                    ));
                }
                if variable.secret.is_some() {
                    return Err(format!(
                        "Environment variable '{name}' of type 'VALUE' must not have a secret set"
                    ));
                }
            }
            Type::Unknown => {
                return Err("Environment variable of type 'UNKNOWN' is not allowed".to_string())
            }
        }
    }
    Ok(())
}

fn validate_secret(secret: &pb::Secret) -> Result<(), String> {
    use pb::secret::Type;
    match secret.r#type() {
        Type::Reference => match &secret.reference {
            None => Err("Secret of type REFERENCE must have the 'reference' field set".into()),
            Some(reference) if secret.value.is_some() => Err(format!(
                "Secret '{}' of type REFERENCE must not have the 'value' field set",
                reference.name
            )),
            Some(_) => Ok(()),
        },
        Type::Value if secret.value.is_none() => {
            Err("Secret of type VALUE must have the 'value' field set".into())
        }
        Type::Value if secret.reference.is_some() => {
            Err("Secret of type VALUE must not have the 'reference' field set".into())
        }
        Type::Value | Type::Unknown => Ok(()),
    }
}

/// Mesos' `validateContainerInfo`: its volumes, and a Docker container's `docker` info
/// (without a `name` parameter, which the Docker containerizer sets itself).
pub(super) fn validate_container_info(container: &pb::ContainerInfo) -> Result<(), String> {
    for volume in &container.volumes {
        validate_volume(volume).map_err(|e| format!("Invalid volume: {e}"))?;
    }
    if container.r#type() == pb::container_info::Type::Docker {
        let Some(docker) = &container.docker else {
            return Err("DockerInfo 'docker' is not set for DOCKER typed ContainerInfo".into());
        };
        if docker.parameters.iter().any(|p| p.key == "name") {
            return Err("Parameter in DockerInfo must not be 'name'".into());
        }
    }
    Ok(())
}

fn validate_volume(volume: &pb::Volume) -> Result<(), String> {
    use pb::volume::source::Type;
    let set = [
        volume.host_path.is_some(),
        volume.image.is_some(),
        volume.source.is_some(),
    ];
    if set.iter().filter(|s| **s).count() != 1 {
        return Err("Only one of them should be set: 'host_path', 'image' and 'source'".into());
    }
    let Some(source) = &volume.source else {
        return Ok(());
    };
    let kind = source.r#type.and_then(|t| Type::try_from(t).ok());
    let missing = match kind {
        Some(Type::DockerVolume) if source.docker_volume.is_none() => {
            "'source.docker_volume' is not set for DOCKER_VOLUME volume"
        }
        Some(Type::HostPath) if source.host_path.is_none() => {
            "'source.host_path' is not set for HOST_PATH volume"
        }
        Some(Type::SandboxPath) if source.sandbox_path.is_none() => {
            "'source.sandbox_path' is not set for SANDBOX_PATH volume"
        }
        Some(Type::Secret) if source.secret.is_none() => {
            "'source.secret' is not set for SECRET volume"
        }
        Some(Type::CsiVolume) => match &source.csi_volume {
            None => "'source.csi_volume' is not set for CSI volume",
            Some(csi) if csi.static_provisioning.is_none() => {
                "'source.csi_volume.static_provisioning' is not set for CSI volume"
            }
            Some(_) => return Ok(()),
        },
        None | Some(Type::Unknown) => "'source.type' is unknown",
        Some(_) => return Ok(()),
    };
    Err(missing.to_string())
}

/// Rejects a negative optional number of seconds with `Expecting '<field>' to be
/// non-negative`.
fn non_negative(value: Option<f64>, field: &str) -> Result<(), String> {
    match value {
        Some(v) if v < 0.0 => Err(format!("Expecting '{field}' to be non-negative")),
        _ => Ok(()),
    }
}

/// Mesos' `validateHealthCheck`.
pub(super) fn validate_health_check(check: &pb::HealthCheck) -> Result<(), String> {
    use pb::health_check::Type;
    let Some(kind) = check.r#type else {
        return Err("HealthCheck must specify 'type'".to_string());
    };
    match Type::try_from(kind).unwrap_or(Type::Unknown) {
        Type::Command => {
            let Some(command) = &check.command else {
                return Err("Expecting 'command' to be set for COMMAND health check".into());
            };
            if command.value.is_none() {
                return Err(format!(
                    "Command health check must contain {}",
                    command_kind(command)
                ));
            }
            validate_command_info(command)
                .map_err(|e| format!("Health check's `CommandInfo` is invalid: {e}"))?;
        }
        Type::Http => {
            let Some(http) = &check.http else {
                return Err("Expecting 'http' to be set for HTTP health check".into());
            };
            if let Some(scheme) = http.scheme.as_deref() {
                if scheme != "http" && scheme != "https" {
                    return Err(format!("Unsupported HTTP health check scheme: '{scheme}'"));
                }
            }
            if let Some(path) = http.path.as_deref() {
                if !path.starts_with('/') {
                    return Err(format!(
                        "The path '{path}' of HTTP health check must start with '/'"
                    ));
                }
            }
        }
        Type::Tcp => {
            if check.tcp.is_none() {
                return Err("Expecting 'tcp' to be set for TCP health check".into());
            }
        }
        Type::Unknown => return Err("'UNKNOWN' is not a valid health check type".into()),
    }
    non_negative(check.delay_seconds, "delay_seconds")?;
    non_negative(check.grace_period_seconds, "grace_period_seconds")?;
    non_negative(check.interval_seconds, "interval_seconds")?;
    non_negative(check.timeout_seconds, "timeout_seconds")
}

/// Mesos' `validateCheckInfo`.
pub(super) fn validate_check_info(check: &pb::CheckInfo) -> Result<(), String> {
    use pb::check_info::Type;
    let Some(kind) = check.r#type else {
        return Err("CheckInfo must specify 'type'".to_string());
    };
    match Type::try_from(kind).unwrap_or(Type::Unknown) {
        Type::Command => {
            let Some(command) = &check.command else {
                return Err("Expecting 'command' to be set for COMMAND check".into());
            };
            let command = &command.command;
            if command.value.is_none() {
                return Err(format!(
                    "Command check must contain {}",
                    command_kind(command)
                ));
            }
            validate_command_info(command)
                .map_err(|e| format!("Check's `CommandInfo` is invalid: {e}"))?;
        }
        Type::Http => {
            let Some(http) = &check.http else {
                return Err("Expecting 'http' to be set for HTTP check".into());
            };
            if let Some(path) = http.path.as_deref() {
                if !path.starts_with('/') {
                    return Err(format!(
                        "The path '{path}' of HTTP check must start with '/'"
                    ));
                }
            }
        }
        Type::Tcp => {
            if check.tcp.is_none() {
                return Err("Expecting 'tcp' to be set for TCP check".into());
            }
        }
        Type::Unknown => return Err("'UNKNOWN' is not a valid check type".into()),
    }
    non_negative(check.delay_seconds, "delay_seconds")?;
    non_negative(check.interval_seconds, "interval_seconds")?;
    non_negative(check.timeout_seconds, "timeout_seconds")
}

fn command_kind(command: &pb::CommandInfo) -> &'static str {
    if command.shell.unwrap_or(true) {
        "'shell command'"
    } else {
        "'executable path'"
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A scalar resource proto, allocated to `role` when given.
    pub(crate) fn scalar(name: &str, value: f64, role: Option<&str>) -> pb::Resource {
        pb::Resource {
            name: name.to_string(),
            r#type: pb::value::Type::Scalar as i32,
            scalar: Some(pb::value::Scalar { value }),
            allocation_info: role.map(|r| pb::resource::AllocationInfo {
                role: Some(r.to_string()),
            }),
            ..Default::default()
        }
    }

    /// A ports resource proto allocated to `role`.
    pub(crate) fn ports(begin: u64, end: u64, role: &str) -> pb::Resource {
        pb::Resource {
            name: "ports".to_string(),
            r#type: pb::value::Type::Ranges as i32,
            ranges: Some(pb::value::Ranges {
                range: vec![pb::value::Range { begin, end }],
            }),
            allocation_info: Some(pb::resource::AllocationInfo {
                role: Some(role.to_string()),
            }),
            ..Default::default()
        }
    }

    /// A persistent volume proto of `size` MB dynamically reserved for `role`.
    pub(crate) fn volume(id: &str, size: f64, role: &str) -> pb::Resource {
        let mut r = scalar("disk", size, Some(role));
        r.reservations = vec![pb::resource::ReservationInfo {
            r#type: Some(pb::resource::reservation_info::Type::Dynamic as i32),
            role: Some(role.to_string()),
            principal: Some("ops".to_string()),
            labels: None,
        }];
        r.disk = Some(Box::new(pb::resource::DiskInfo {
            persistence: Some(pb::resource::disk_info::Persistence {
                id: id.to_string(),
                principal: Some("ops".to_string()),
            }),
            volume: Some(pb::Volume {
                mode: pb::volume::Mode::Rw as i32,
                container_path: "data".to_string(),
                ..Default::default()
            }),
            source: None,
        }));
        r
    }

    fn err<T: std::fmt::Debug>(r: Result<T, String>) -> String {
        r.unwrap_err()
    }

    #[test]
    fn ids() {
        assert_eq!(validate_id("task-1.a_b"), Ok(()));
        assert_eq!(err(validate_id("")), "ID must not be empty");
        assert_eq!(
            err(validate_id(&"x".repeat(256))),
            "ID must not be greater than 255 characters"
        );
        assert_eq!(err(validate_id("..")), "'..' is disallowed");
        assert_eq!(err(validate_id("a/b")), "'a/b' contains invalid characters");
        assert_eq!(
            err(validate_id("a\\b")),
            "'a\\b' contains invalid characters"
        );
        assert_eq!(
            err(validate_id("a\nb")),
            "'a\nb' contains invalid characters"
        );
        assert_eq!(validate_id("a b"), Ok(()), "spaces are allowed");
    }

    #[test]
    fn resources_must_parse() {
        let bad = scalar("cpus", -1.0, None);
        assert!(err(validate_resources(&[bad])).starts_with("Invalid resources: "));
    }

    #[test]
    fn gpus_must_be_whole() {
        assert!(validate_resources(&[scalar("gpus", 2.0, None)]).is_ok());
        assert!(err(validate_resources(&[scalar("gpus", 1.5, None)]))
            .contains("The 'gpus' resource must be an unsigned integer"));
    }

    #[test]
    fn disk_info_rules() {
        assert!(validate_resources(&[volume("v1", 10.0, "eng")]).is_ok());

        let mut unreserved = volume("v1", 10.0, "eng");
        unreserved.reservations.clear();
        assert!(err(validate_resources(&[unreserved]))
            .contains("Persistent volumes cannot be created from unreserved resources"));

        let mut no_volume = volume("v1", 10.0, "eng");
        no_volume.disk.as_mut().unwrap().volume = None;
        assert!(err(validate_resources(&[no_volume]))
            .contains("Expecting 'volume' to be set for persistent volume"));

        let mut host_path = volume("v1", 10.0, "eng");
        host_path
            .disk
            .as_mut()
            .unwrap()
            .volume
            .as_mut()
            .unwrap()
            .host_path = Some("/x".into());
        assert!(err(validate_resources(&[host_path]))
            .contains("Expecting 'host_path' to be unset for persistent volume"));

        let bad_id = volume("a/b", 10.0, "eng");
        assert!(err(validate_resources(&[bad_id]))
            .contains("Invalid persistence ID for persistent volume: 'a/b' contains invalid"));

        let mut revocable = volume("v1", 10.0, "eng");
        revocable.revocable = Some(pb::resource::RevocableInfo {});
        assert!(err(validate_resources(&[revocable]))
            .contains("Persistent volumes cannot be created from revocable resources"));

        let mut not_persistent = volume("v1", 10.0, "eng");
        not_persistent.disk.as_mut().unwrap().persistence = None;
        assert!(err(validate_resources(&[not_persistent]))
            .contains("Non-persistent volume not supported"));

        let mut empty = scalar("disk", 10.0, None);
        empty.disk = Some(Box::default());
        assert!(err(validate_resources(&[empty])).contains("DiskInfo is set but empty"));
    }

    #[test]
    fn revocable_dynamic_reservation() {
        let mut r = volume("v1", 10.0, "eng");
        r.disk = None;
        r.revocable = Some(pb::resource::RevocableInfo {});
        assert!(err(validate_resources(&[r])).contains(
            "Invalid ReservationInfo: Dynamically reserved resource disk(allocated: eng)"
        ));
    }

    #[test]
    fn unique_persistence_ids() {
        let rs =
            validate_resources(&[volume("v1", 10.0, "eng"), volume("v1", 20.0, "eng")]).unwrap();
        assert_eq!(
            err(validate_unique_persistence_id(&rs)),
            "Persistence ID 'v1' is not unique"
        );
        let rs =
            validate_resources(&[volume("v1", 10.0, "eng"), volume("v1", 20.0, "ops")]).unwrap();
        assert_eq!(validate_unique_persistence_id(&rs), Ok(()));
    }

    #[test]
    fn single_allocation_role() {
        let one = validate_resources(&[scalar("cpus", 1.0, Some("a"))]).unwrap();
        assert_eq!(validate_allocated_to_single_role(&one), Ok(()));
        let none = validate_resources(&[scalar("cpus", 1.0, None)]).unwrap();
        assert_eq!(
            err(validate_allocated_to_single_role(&none)),
            "The resources are not allocated to a role"
        );
        let two = validate_resources(&[
            scalar("cpus", 1.0, Some("a")),
            scalar("mem", 1.0, Some("b")),
        ])
        .unwrap();
        assert!(err(validate_allocated_to_single_role(&two))
            .contains("but only one allocation role is allowed"));
    }

    #[test]
    fn revocable_mix() {
        let mut rev = scalar("cpus", 1.0, Some("a"));
        rev.revocable = Some(pb::resource::RevocableInfo {});
        let mixed = validate_resources(&[rev.clone(), scalar("cpus", 1.0, Some("a"))]).unwrap();
        assert_eq!(
            err(validate_revocable_mix(&mixed)),
            "Cannot use both revocable and non-revocable 'cpus' at the same time"
        );
        let only = validate_resources(&[rev, scalar("mem", 1.0, Some("a"))]).unwrap();
        assert_eq!(validate_revocable_mix(&only), Ok(()));
    }

    #[test]
    fn overlap_detection() {
        let a = validate_resources(&[ports(1, 10, "r")]).unwrap();
        let b = validate_resources(&[ports(5, 20, "r")]).unwrap();
        let c = validate_resources(&[ports(11, 20, "r"), scalar("cpus", 1.0, Some("r"))]).unwrap();
        assert!(overlapping(&[&a, &b]));
        assert!(!overlapping(&[&a, &c]));
        let other_role = validate_resources(&[ports(1, 10, "s")]).unwrap();
        assert!(!overlapping(&[&a, &other_role]));
    }

    #[test]
    fn resource_providers() {
        let mut p1 = scalar("disk", 1.0, None);
        p1.provider_id = Some(pb::ResourceProviderId { value: "p1".into() });
        let mut p2 = scalar("cpus", 1.0, None);
        p2.provider_id = Some(pb::ResourceProviderId { value: "p2".into() });
        let agent = scalar("mem", 1.0, None);
        let mixed = validate_resources(&[p1.clone(), agent]).unwrap();
        assert_eq!(
            err(validate_single_resource_provider(&mixed)),
            "Some resources have a resource provider and some do not"
        );
        let two = validate_resources(&[p1, p2]).unwrap();
        assert_eq!(
            err(validate_single_resource_provider(&two)),
            "The resources have multiple resource providers: p1, p2"
        );
    }

    #[test]
    fn command_environment() {
        use pb::environment::{variable::Type, Variable};
        let command = |variable: Variable| pb::CommandInfo {
            environment: Some(pb::Environment {
                variables: vec![variable],
            }),
            ..Default::default()
        };
        let ok = Variable {
            name: "A".into(),
            r#type: Some(Type::Value as i32),
            value: Some("1".into()),
            secret: None,
        };
        assert_eq!(validate_command_info(&command(ok.clone())), Ok(()));
        let no_value = Variable {
            value: None,
            ..ok.clone()
        };
        assert_eq!(
            err(validate_command_info(&command(no_value))),
            "Environment variable 'A' of type 'VALUE' must have a value set"
        );
        let secret_without = Variable {
            r#type: Some(Type::Secret as i32),
            ..ok.clone()
        };
        assert_eq!(
            err(validate_command_info(&command(secret_without))),
            "Environment variable 'A' of type 'SECRET' must have a secret set"
        );
        let unknown = Variable {
            r#type: Some(Type::Unknown as i32),
            ..ok
        };
        assert_eq!(
            err(validate_command_info(&command(unknown))),
            "Environment variable of type 'UNKNOWN' is not allowed"
        );
    }

    #[test]
    fn health_checks() {
        use pb::health_check::{HttpCheckInfo, Type};
        let http = pb::HealthCheck {
            r#type: Some(Type::Http as i32),
            http: Some(HttpCheckInfo {
                port: 80,
                path: Some("/health".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(validate_health_check(&http), Ok(()));
        let mut bad_path = http.clone();
        bad_path.http.as_mut().unwrap().path = Some("health".into());
        assert_eq!(
            err(validate_health_check(&bad_path)),
            "The path 'health' of HTTP health check must start with '/'"
        );
        let negative = pb::HealthCheck {
            delay_seconds: Some(-1.0),
            ..http
        };
        assert_eq!(
            err(validate_health_check(&negative)),
            "Expecting 'delay_seconds' to be non-negative"
        );
        assert_eq!(
            err(validate_health_check(&pb::HealthCheck::default())),
            "HealthCheck must specify 'type'"
        );
        let command = pb::HealthCheck {
            r#type: Some(Type::Command as i32),
            command: Some(pb::CommandInfo::default()),
            ..Default::default()
        };
        assert_eq!(
            err(validate_health_check(&command)),
            "Command health check must contain 'shell command'"
        );
    }

    #[test]
    fn checks() {
        use pb::check_info::Type;
        let tcp = pb::CheckInfo {
            r#type: Some(Type::Tcp as i32),
            ..Default::default()
        };
        assert_eq!(
            err(validate_check_info(&tcp)),
            "Expecting 'tcp' to be set for TCP check"
        );
        assert_eq!(
            err(validate_check_info(&pb::CheckInfo::default())),
            "CheckInfo must specify 'type'"
        );
    }

    #[test]
    fn containers() {
        use pb::container_info::{DockerInfo, Type};
        let docker = |parameters: Vec<pb::Parameter>| pb::ContainerInfo {
            r#type: Type::Docker as i32,
            docker: Some(DockerInfo {
                image: "busybox".into(),
                parameters,
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(validate_container_info(&docker(vec![])), Ok(()));
        let named = pb::Parameter {
            key: "name".into(),
            value: "x".into(),
        };
        assert_eq!(
            err(validate_container_info(&docker(vec![named]))),
            "Parameter in DockerInfo must not be 'name'"
        );
        let bare = pb::ContainerInfo {
            r#type: Type::Docker as i32,
            ..Default::default()
        };
        assert_eq!(
            err(validate_container_info(&bare)),
            "DockerInfo 'docker' is not set for DOCKER typed ContainerInfo"
        );

        let with_volume = |volume: pb::Volume| pb::ContainerInfo {
            r#type: Type::Mesos as i32,
            volumes: vec![volume],
            ..Default::default()
        };
        let host = pb::Volume {
            container_path: "/data".into(),
            host_path: Some("/srv".into()),
            ..Default::default()
        };
        assert_eq!(validate_container_info(&with_volume(host.clone())), Ok(()));
        let neither = pb::Volume {
            host_path: None,
            ..host.clone()
        };
        assert_eq!(
            err(validate_container_info(&with_volume(neither))),
            "Invalid volume: Only one of them should be set: 'host_path', 'image' and 'source'"
        );
        let sandbox = pb::Volume {
            host_path: None,
            source: Some(pb::volume::Source {
                r#type: Some(pb::volume::source::Type::SandboxPath as i32),
                ..Default::default()
            }),
            ..host
        };
        assert_eq!(
            err(validate_container_info(&with_volume(sandbox))),
            "Invalid volume: 'source.sandbox_path' is not set for SANDBOX_PATH volume"
        );
    }

    #[test]
    fn set_formatting() {
        assert_eq!(stringify_set(["b", "a"]), "{ a, b }");
    }
}
