//! Mesos 1.9+ quota configs (`QuotaConfig`: guarantees and limits per role) in the
//! allocator's terms.

use crate::allocator::Quota;
use crate::proto::mesos::v1::quota::QuotaConfig;
use crate::registry::RegistryState;

/// The allocator quota a config describes; an entry without a value is an error.
pub(crate) fn quota_of(config: &QuotaConfig) -> Result<Quota, String> {
    let mut quota = Quota::default();
    for entry in &config.guarantees {
        let (name, value) = entry_value(entry.key.as_deref(), entry.value.as_ref())?;
        quota.guarantees.insert(name, value);
    }
    for entry in &config.limits {
        let (name, value) = entry_value(entry.key.as_deref(), entry.value.as_ref())?;
        quota.limits.insert(name, value);
    }
    Ok(quota)
}

fn entry_value(
    key: Option<&str>,
    value: Option<&crate::proto::mesos::v1::value::Scalar>,
) -> Result<(String, f64), String> {
    let name = key
        .filter(|k| !k.is_empty())
        .ok_or("a quota entry has no resource name")?;
    let value = value.ok_or_else(|| format!("the quota of '{name}' has no value"))?;
    Ok((name.to_string(), value.value))
}

/// Every role's quota in the registry.
pub(crate) fn quotas_of(state: &RegistryState) -> Vec<(String, Quota)> {
    state
        .quotas
        .iter()
        .filter_map(|(role, config)| quota_of(config).ok().map(|q| (role.clone(), q)))
        .collect()
}
