//! `FrameworkInfo` checks for SUBSCRIBE and UPDATE_FRAMEWORK (Mesos'
//! `validation::framework` and `Master::validateFramework`).

use std::collections::BTreeSet;

use super::common::{stringify_set, validate_id};
use crate::proto::mesos::v1 as pb;
use crate::proto::mesos::v1::framework_info::capability::Type as Capability;
use crate::resources::{validate_role, UNRESERVED_ROLE};

/// Whether the framework declares capability `cap`.
pub fn has_capability(info: &pb::FrameworkInfo, cap: Capability) -> bool {
    info.capabilities
        .iter()
        .any(|c| c.r#type == Some(cap as i32))
}

/// The roles a framework subscribes with: `roles` when it is MULTI_ROLE capable, else its
/// single `role` (`*` when unset).
pub fn framework_roles(info: &pb::FrameworkInfo) -> Vec<String> {
    if has_capability(info, Capability::MultiRole) {
        info.roles.clone()
    } else {
        vec![legacy_role(info).unwrap_or(UNRESERVED_ROLE).to_string()]
    }
}

// `FrameworkInfo.role` is deprecated in the schema; reading it is the point here.
#[allow(deprecated)]
fn legacy_role(info: &pb::FrameworkInfo) -> Option<&str> {
    info.role.as_deref()
}

/// Checks a `FrameworkInfo` a scheduler subscribes (or updates) with, as Mesos does:
///
/// - `role` must not be set with MULTI_ROLE, `roles` only with it; no role twice; every
///   role valid;
/// - `id`, when set and non-empty, is a valid ID;
/// - every `offer_filters` quantity is a finite, non-negative number, and each filter has
///   at least one;
/// - `failover_timeout` is a number of seconds a duration can hold (NaN and out-of-range
///   values are refused; Mesos accepts negative ones, and so does this);
/// - with a `--roles` whitelist (`roles_whitelist`), every role is in it (`*` always is):
///   `Roles { a, b } are not present in the master's --roles`.
pub fn validate_framework_info(
    info: &pb::FrameworkInfo,
    roles_whitelist: Option<&[String]>,
) -> Result<(), String> {
    validate_roles(info)?;
    if let Some(id) = &info.id {
        if !id.value.is_empty() {
            validate_id(&id.value)?;
        }
    }
    for entry in &info.offer_filters {
        if let Some(filters) = &entry.value {
            validate_offer_filters(filters)?;
        }
    }
    let timeout = info.failover_timeout();
    if !failover_timeout_is_valid(timeout) {
        return Err(format!(
            "The framework failover_timeout ({}) is invalid",
            stringify_double(timeout)
        ));
    }
    if let Some(whitelist) = roles_whitelist {
        let roles = framework_roles(info);
        let missing: Vec<&str> = roles
            .iter()
            .map(String::as_str)
            .filter(|r| *r != UNRESERVED_ROLE && !whitelist.iter().any(|w| w == r))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "Roles {} are not present in the master's --roles",
                stringify_set(missing)
            ));
        }
    }
    Ok(())
}

fn validate_roles(info: &pb::FrameworkInfo) -> Result<(), String> {
    let multi_role = has_capability(info, Capability::MultiRole);
    let role = legacy_role(info);
    if multi_role {
        if role.is_some() {
            return Err(
                "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable"
                    .to_string(),
            );
        }
        let mut seen = BTreeSet::new();
        let duplicates: BTreeSet<&str> = info
            .roles
            .iter()
            .filter(|r| !seen.insert(r.as_str()))
            .map(String::as_str)
            .collect();
        if !duplicates.is_empty() {
            return Err(format!(
                "'FrameworkInfo.roles' contains duplicate items: {}",
                stringify_set(duplicates)
            ));
        }
        for role in &info.roles {
            validate_role(role)
                .map_err(|e| format!("'FrameworkInfo.roles' contains invalid role: {e}"))?;
        }
    } else {
        if !info.roles.is_empty() {
            return Err(
                "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE \
                 capable"
                    .to_string(),
            );
        }
        validate_role(role.unwrap_or(UNRESERVED_ROLE))
            .map_err(|e| format!("'FrameworkInfo.role' is not a valid role: {e}"))?;
    }
    Ok(())
}

/// Whether `seconds` fits a stout `Duration` (int64 nanoseconds).
fn failover_timeout_is_valid(seconds: f64) -> bool {
    let nanos = seconds * 1e9;
    // `i64::MAX as f64` rounds up to 2^63, which itself does not fit.
    !nanos.is_nan() && nanos < i64::MAX as f64 && nanos >= i64::MIN as f64
}

/// Writes a double as C++ streams do by default (`%g`, six significant digits):
/// `604800`, `1e+300`, `inf`, `nan`.
fn stringify_double(value: f64) -> String {
    if value.is_nan() {
        return "nan".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if value == 0.0 {
        return "0".to_string();
    }
    let trim = |digits: String| -> String {
        if digits.contains('.') {
            digits
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()
        } else {
            digits
        }
    };
    let scientific = format!("{value:.5e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(-4..6).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa.to_string()), exponent.abs())
    } else {
        let decimals = usize::try_from(5 - exponent).unwrap_or(0);
        trim(format!("{value:.decimals$}"))
    }
}

/// Mesos' `validateOfferFilters`.
fn validate_offer_filters(filters: &pb::OfferFilters) -> Result<(), String> {
    let Some(min) = &filters.min_allocatable_resources else {
        return Ok(());
    };
    for quantities in &min.quantities {
        if quantities.quantities.is_empty() {
            return Err("Resource quantities must contain at least one quantity".to_string());
        }
        for entry in &quantities.quantities {
            let value = entry.value.map_or(0.0, |s| s.value);
            validate_input_scalar(value).map_err(|e| {
                format!(
                    "Invalid resource quantity for '{}': {e}",
                    entry.key.as_deref().unwrap_or("")
                )
            })?;
        }
    }
    Ok(())
}

/// Mesos' `validateInputScalarValue`.
fn validate_input_scalar(value: f64) -> Result<(), &'static str> {
    if value.is_infinite() {
        Err("Infinite values not supported")
    } else if value.is_nan() {
        Err("NaN not supported")
    } else if value.is_subnormal() {
        Err("Subnormal values not supported")
    } else if value < 0.0 {
        Err("Negative values not supported")
    } else {
        Ok(())
    }
}

/// Checks that an UPDATE_FRAMEWORK (or a re-subscription) changes no field Mesos holds
/// immutable: `principal` (`Changing framework's principal is not allowed.`), `user` and
/// `checkpoint` (`Updating 'FrameworkInfo.user' is unsupported; attempted to update from
/// 'a' to 'b'`). The `id` must not change either (the master looks the framework up by
/// it, so Mesos has no text for this).
pub fn validate_framework_update(
    current: &pb::FrameworkInfo,
    update: &pb::FrameworkInfo,
) -> Result<(), String> {
    if current.principal != update.principal {
        return Err("Changing framework's principal is not allowed.".to_string());
    }
    if current.user != update.user {
        return Err(format!(
            "Updating 'FrameworkInfo.user' is unsupported; attempted to update from '{}' to '{}'",
            current.user, update.user
        ));
    }
    if current.checkpoint() != update.checkpoint() {
        return Err(format!(
            "Updating 'FrameworkInfo.checkpoint' is unsupported; attempted to update from \
             '{}' to '{}'",
            current.checkpoint(),
            update.checkpoint()
        ));
    }
    if id(current) != id(update) {
        return Err(format!(
            "Updating 'FrameworkInfo.id' is unsupported; attempted to update from '{}' to '{}'",
            id(current),
            id(update)
        ));
    }
    Ok(())
}

/// The value of a framework's ID, `""` when unset.
fn id(info: &pb::FrameworkInfo) -> &str {
    info.id.as_ref().map_or("", |id| id.value.as_str())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use pb::framework_info::{Capability as Cap, OfferFiltersEntry};

    /// A valid single-role framework.
    pub(crate) fn framework(role: &str) -> pb::FrameworkInfo {
        #[allow(deprecated)]
        pb::FrameworkInfo {
            user: "alice".into(),
            name: "fw".into(),
            role: Some(role.into()),
            ..Default::default()
        }
    }

    /// A valid MULTI_ROLE framework with `roles`.
    pub(crate) fn multi_role(roles: &[&str]) -> pb::FrameworkInfo {
        pb::FrameworkInfo {
            user: "alice".into(),
            name: "fw".into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            capabilities: vec![Cap {
                r#type: Some(Capability::MultiRole as i32),
            }],
            ..Default::default()
        }
    }

    fn reason(info: &pb::FrameworkInfo) -> String {
        validate_framework_info(info, None).unwrap_err()
    }

    #[test]
    fn roles_of_a_framework() {
        assert_eq!(framework_roles(&framework("eng")), ["eng"]);
        let mut no_role = framework("x");
        #[allow(deprecated)]
        {
            no_role.role = None;
        }
        assert_eq!(framework_roles(&no_role), ["*"]);
        assert_eq!(framework_roles(&multi_role(&["a", "b"])), ["a", "b"]);
        assert!(has_capability(&multi_role(&[]), Capability::MultiRole));
        assert!(!has_capability(&framework("a"), Capability::MultiRole));
    }

    #[test]
    fn valid_frameworks_pass() {
        assert_eq!(validate_framework_info(&framework("eng"), None), Ok(()));
        assert_eq!(
            validate_framework_info(&multi_role(&["a", "b/c"]), None),
            Ok(())
        );
    }

    #[test]
    fn role_with_multi_role() {
        let mut info = multi_role(&["a"]);
        #[allow(deprecated)]
        {
            info.role = Some("a".into());
        }
        assert_eq!(
            reason(&info),
            "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable"
        );
    }

    #[test]
    fn roles_without_multi_role() {
        let mut info = framework("a");
        info.roles = vec!["a".into()];
        assert_eq!(
            reason(&info),
            "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable"
        );
    }

    #[test]
    fn duplicate_roles() {
        assert_eq!(
            reason(&multi_role(&["a", "b", "a"])),
            "'FrameworkInfo.roles' contains duplicate items: { a }"
        );
    }

    #[test]
    fn invalid_roles() {
        assert!(reason(&multi_role(&["a", "/x"]))
            .starts_with("'FrameworkInfo.roles' contains invalid role: "));
        assert!(reason(&framework("a b")).starts_with("'FrameworkInfo.role' is not a valid role: "));
    }

    #[test]
    fn framework_id_is_an_id() {
        let mut info = framework("a");
        info.id = Some(pb::FrameworkId {
            value: "a/b".into(),
        });
        assert_eq!(reason(&info), "'a/b' contains invalid characters");
        info.id = Some(pb::FrameworkId {
            value: String::new(),
        });
        assert_eq!(validate_framework_info(&info, None), Ok(()));
    }

    #[test]
    fn failover_timeout() {
        let mut info = framework("a");
        info.failover_timeout = Some(604800.0);
        assert_eq!(validate_framework_info(&info, None), Ok(()));
        info.failover_timeout = Some(1e300);
        assert_eq!(
            reason(&info),
            "The framework failover_timeout (1e+300) is invalid"
        );
        info.failover_timeout = Some(f64::NAN);
        assert!(reason(&info).starts_with("The framework failover_timeout ("));
        info.failover_timeout = Some(f64::INFINITY);
        assert!(reason(&info).ends_with(") is invalid"));
    }

    #[test]
    fn doubles_print_as_in_cpp() {
        assert_eq!(stringify_double(604800.0), "604800");
        assert_eq!(stringify_double(1e7), "1e+07");
        assert_eq!(stringify_double(-2.5e-9), "-2.5e-09");
        assert_eq!(stringify_double(0.0001), "0.0001");
        assert_eq!(stringify_double(1.0 / 3.0), "0.333333");
        assert_eq!(stringify_double(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn offer_filters() {
        use pb::offer_filters::resource_quantities::QuantitiesEntry;
        use pb::offer_filters::{MinAllocatableResources, ResourceQuantities};
        let with = |quantities: Vec<QuantitiesEntry>| {
            let mut info = framework("a");
            info.offer_filters = vec![OfferFiltersEntry {
                key: Some("a".into()),
                value: Some(pb::OfferFilters {
                    min_allocatable_resources: Some(MinAllocatableResources {
                        quantities: vec![ResourceQuantities { quantities }],
                    }),
                }),
            }];
            info
        };
        let entry = |v: f64| QuantitiesEntry {
            key: Some("cpus".into()),
            value: Some(pb::value::Scalar { value: v }),
        };
        assert_eq!(
            validate_framework_info(&with(vec![entry(1.0)]), None),
            Ok(())
        );
        assert_eq!(
            reason(&with(vec![])),
            "Resource quantities must contain at least one quantity"
        );
        assert_eq!(
            reason(&with(vec![entry(-1.0)])),
            "Invalid resource quantity for 'cpus': Negative values not supported"
        );
        assert_eq!(
            reason(&with(vec![entry(f64::NAN)])),
            "Invalid resource quantity for 'cpus': NaN not supported"
        );
    }

    #[test]
    fn roles_whitelist() {
        let whitelist = vec!["a".to_string()];
        assert_eq!(
            validate_framework_info(&framework("a"), Some(&whitelist)),
            Ok(())
        );
        assert_eq!(
            validate_framework_info(&framework("*"), Some(&whitelist)),
            Ok(())
        );
        assert_eq!(
            validate_framework_info(&multi_role(&["c", "a", "b"]), Some(&whitelist)).unwrap_err(),
            "Roles { b, c } are not present in the master's --roles"
        );
    }

    #[test]
    fn update_immutable_fields() {
        let current = framework("a");
        let mut update = current.clone();
        update.name = "renamed".into();
        assert_eq!(validate_framework_update(&current, &update), Ok(()));

        let mut principal = current.clone();
        principal.principal = Some("p".into());
        assert_eq!(
            validate_framework_update(&current, &principal).unwrap_err(),
            "Changing framework's principal is not allowed."
        );

        let mut user = current.clone();
        user.user = "bob".into();
        assert_eq!(
            validate_framework_update(&current, &user).unwrap_err(),
            "Updating 'FrameworkInfo.user' is unsupported; attempted to update from 'alice' \
             to 'bob'"
        );

        let mut checkpoint = current.clone();
        checkpoint.checkpoint = Some(true);
        assert_eq!(
            validate_framework_update(&current, &checkpoint).unwrap_err(),
            "Updating 'FrameworkInfo.checkpoint' is unsupported; attempted to update from \
             'false' to 'true'"
        );

        let mut id = current.clone();
        id.id = Some(pb::FrameworkId { value: "x".into() });
        assert!(validate_framework_update(&current, &id)
            .unwrap_err()
            .starts_with("Updating 'FrameworkInfo.id' is unsupported"));
    }
}
