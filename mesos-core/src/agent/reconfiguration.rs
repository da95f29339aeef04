//! What an agent restarted with other flags may keep of its previous run
//! (`--reconfiguration_policy`), and the total resources it then re-registers with.
//!
//! The agent checkpoints the `AgentInfo` its flags described (`slave.info`) and the total
//! the master last checkpointed on it (`resources.info`: its dynamic reservations and
//! persistent volumes). When it restarts with the same agent id, the new flags are checked
//! against `slave.info` as Mesos checks them:
//!
//! - `equal` (the default): hostname, port, resources, attributes and fault domain are all
//!   as they were;
//! - `additive`: hostname and port are as they were, every resource and attribute that was
//!   there still is (resources may grow, attributes may be added), and a fault domain, once
//!   set, is unchanged.
//!
//! The restarted agent's total is then the checkpointed one plus whatever the flags added
//! ([`added_resources`]).

use std::str::FromStr;

use crate::proto::mesos::v1::{AgentInfo, Attribute, Resource};
use crate::resources::Resources;

/// Which changes of the agent's flags a restart accepts (`--reconfiguration_policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReconfigurationPolicy {
    /// `equal`: none.
    #[default]
    Equal,
    /// `additive`: more resources, new attributes, a fault domain where there was none.
    Additive,
}

impl ReconfigurationPolicy {
    /// The flag value.
    pub fn name(self) -> &'static str {
        match self {
            ReconfigurationPolicy::Equal => "equal",
            ReconfigurationPolicy::Additive => "additive",
        }
    }
}

impl FromStr for ReconfigurationPolicy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "equal" => Ok(ReconfigurationPolicy::Equal),
            "additive" => Ok(ReconfigurationPolicy::Additive),
            _ => Err(format!("'{text}' is neither 'equal' nor 'additive'")),
        }
    }
}

/// Why the agent's new flags cannot take over its previous run; the reason names what
/// changed.
pub fn check(
    policy: ReconfigurationPolicy,
    previous: &AgentInfo,
    current: &AgentInfo,
) -> Result<(), String> {
    if previous.hostname != current.hostname {
        return Err(format!(
            "the hostname changed from '{}' to '{}'",
            previous.hostname, current.hostname
        ));
    }
    if previous.port != current.port {
        return Err(format!(
            "the port changed from {} to {}",
            previous.port.unwrap_or_default(),
            current.port.unwrap_or_default()
        ));
    }
    let before = Resources::from_protos_lossy(&previous.resources);
    let now = Resources::from_protos_lossy(&current.resources);
    let resources_kept = match policy {
        ReconfigurationPolicy::Equal => before == now,
        ReconfigurationPolicy::Additive => now.contains(&before),
    };
    if !resources_kept {
        return Err(format!("the resources changed from {before} to {now}"));
    }
    match policy {
        ReconfigurationPolicy::Equal => {
            if !same_attributes(&previous.attributes, &current.attributes) {
                return Err("the attributes changed".into());
            }
            if previous.domain != current.domain {
                return Err("the fault domain changed".into());
            }
        }
        ReconfigurationPolicy::Additive => {
            if let Some(gone) = previous
                .attributes
                .iter()
                .find(|a| !current.attributes.contains(a))
            {
                return Err(format!(
                    "the attribute '{}' was removed or changed",
                    gone.name
                ));
            }
            if previous.domain.is_some() && previous.domain != current.domain {
                return Err("the fault domain changed".into());
            }
        }
    }
    Ok(())
}

/// Whether two attribute lists hold the same attributes, in any order.
fn same_attributes(a: &[Attribute], b: &[Attribute]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

/// What the agent's flags add to the resources of its previous run (`current` less
/// `previous`), once [`check`] accepted them: the restarted agent's total is the one the
/// master last checkpointed on it plus these.
pub fn added_resources(previous: &[Resource], current: &[Resource]) -> Resources {
    Resources::from_protos_lossy(current) - Resources::from_protos_lossy(previous)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::mesos::v1::{value, DomainInfo};

    fn resources(text: &str) -> Vec<Resource> {
        crate::resources::parse_resources(text, "*")
            .expect("valid resources")
            .to_protos()
    }

    fn text_attribute(name: &str, value: &str) -> Attribute {
        Attribute {
            name: name.into(),
            r#type: value::Type::Text as i32,
            text: Some(value::Text {
                value: value.into(),
            }),
            ..Default::default()
        }
    }

    fn info(resources_text: &str, attributes: Vec<Attribute>) -> AgentInfo {
        AgentInfo {
            hostname: "host-a".into(),
            port: Some(5051),
            resources: resources(resources_text),
            attributes,
            ..Default::default()
        }
    }

    #[test]
    fn policies_are_read_from_their_flag_values() {
        assert_eq!("equal".parse(), Ok(ReconfigurationPolicy::Equal));
        assert_eq!("additive".parse(), Ok(ReconfigurationPolicy::Additive));
        assert!("any".parse::<ReconfigurationPolicy>().is_err());
        assert_eq!(ReconfigurationPolicy::default().name(), "equal");
    }

    #[test]
    fn equal_accepts_only_the_same_agent() {
        let rack = vec![text_attribute("rack", "r1"), text_attribute("os", "linux")];
        let previous = info("cpus:4;mem:2048;ports:[31000-31100]", rack.clone());
        let reordered = info(
            "mem:2048;cpus:4;ports:[31000-31100]",
            rack.into_iter().rev().collect(),
        );
        assert_eq!(
            check(ReconfigurationPolicy::Equal, &previous, &reordered),
            Ok(())
        );

        let more = info(
            "cpus:8;mem:2048;ports:[31000-31100]",
            previous.attributes.clone(),
        );
        let error = check(ReconfigurationPolicy::Equal, &previous, &more).unwrap_err();
        assert!(error.contains("resources changed"), "{error}");
        let added = AgentInfo {
            attributes: vec![text_attribute("rack", "r1")],
            ..previous.clone()
        };
        assert!(check(ReconfigurationPolicy::Equal, &previous, &added).is_err());
        let moved = AgentInfo {
            port: Some(5052),
            ..previous.clone()
        };
        let error = check(ReconfigurationPolicy::Equal, &previous, &moved).unwrap_err();
        assert!(error.contains("port changed from 5051 to 5052"), "{error}");
    }

    #[test]
    fn additive_accepts_additions_and_refuses_removals() {
        let previous = info(
            "cpus:4;mem:2048;ports:[31000-31100]",
            vec![text_attribute("rack", "r1")],
        );
        let grown = AgentInfo {
            domain: Some(DomainInfo::default()),
            ..info(
                "cpus:8;mem:4096;gpus:1;ports:[31000-31200]",
                vec![text_attribute("rack", "r1"), text_attribute("ssd", "yes")],
            )
        };
        assert_eq!(
            check(ReconfigurationPolicy::Additive, &previous, &grown),
            Ok(())
        );

        let shrunk = info(
            "cpus:2;mem:2048;ports:[31000-31100]",
            previous.attributes.clone(),
        );
        assert!(check(ReconfigurationPolicy::Additive, &previous, &shrunk).is_err());
        let fewer_ports = info(
            "cpus:4;mem:2048;ports:[31000-31050]",
            previous.attributes.clone(),
        );
        assert!(check(ReconfigurationPolicy::Additive, &previous, &fewer_ports).is_err());
        let renamed = info(
            "cpus:4;mem:2048;ports:[31000-31100]",
            vec![text_attribute("rack", "r2")],
        );
        let error = check(ReconfigurationPolicy::Additive, &previous, &renamed).unwrap_err();
        assert!(error.contains("'rack'"), "{error}");
        let rehosted = AgentInfo {
            hostname: "host-b".into(),
            ..grown.clone()
        };
        assert!(check(ReconfigurationPolicy::Additive, &previous, &rehosted).is_err());
        let relocated = AgentInfo {
            domain: None,
            ..grown.clone()
        };
        assert!(check(ReconfigurationPolicy::Additive, &grown, &relocated).is_err());
    }

    #[test]
    fn what_the_flags_add_is_what_the_previous_run_lacked() {
        let previous = resources("cpus:4;mem:2048;ports:[31000-31100]");
        assert!(added_resources(&previous, &previous).is_empty());
        let current = resources("cpus:8;mem:2048;ports:[31000-31200]");
        let checkpointed = Resources::from_protos_lossy(&resources(
            "cpus:3;cpus(ops):1;mem:2048;ports:[31000-31100]",
        ));
        assert_eq!(
            checkpointed + added_resources(&previous, &current),
            Resources::from_protos_lossy(&resources(
                "cpus:7;cpus(ops):1;mem:2048;ports:[31000-31200]"
            ))
        );
    }
}
