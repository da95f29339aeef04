//! Role names: validation and the hierarchy (`eng` is the parent of `eng/web`).

use super::error::RoleError;

/// The role of unreserved resources, and the default role of frameworks.
pub const UNRESERVED_ROLE: &str = "*";

/// Checks a role name as Mesos does.
///
/// `*` alone is valid. Otherwise the role is a `/`-separated path whose components are
/// non-empty, are not `.`, `..` or `*`, do not start with `-`, and contain no whitespace
/// or DEL; the role neither starts nor ends with `/`.
pub fn validate_role(role: &str) -> Result<(), RoleError> {
    if role == UNRESERVED_ROLE {
        return Ok(());
    }
    if role.is_empty() {
        return Err(RoleError::Empty);
    }
    if role.starts_with('/') {
        return Err(RoleError::LeadingSlash(role.to_string()));
    }
    if role.ends_with('/') {
        return Err(RoleError::TrailingSlash(role.to_string()));
    }
    for component in role.split('/') {
        if component.is_empty() {
            return Err(RoleError::EmptyComponent(role.to_string()));
        }
        if component == "." || component == ".." {
            return Err(RoleError::DotComponent {
                role: role.to_string(),
                component: component.to_string(),
            });
        }
        if component == "*" {
            return Err(RoleError::StarComponent(role.to_string()));
        }
        if component.starts_with('-') {
            return Err(RoleError::LeadingDash {
                role: role.to_string(),
                component: component.to_string(),
            });
        }
        if component
            .chars()
            .any(|c| c.is_whitespace() || c == '\u{7f}' || c.is_control())
        {
            return Err(RoleError::InvalidCharacter {
                role: role.to_string(),
                component: component.to_string(),
            });
        }
    }
    Ok(())
}

/// Whether `child` is a strict descendant of `parent` (`eng/web` of `eng`, not `eng` of
/// `eng`, not `engineering` of `eng`).
pub fn is_strict_subrole_of(child: &str, parent: &str) -> bool {
    child.len() > parent.len()
        && child.as_bytes().get(parent.len()) == Some(&b'/')
        && child.starts_with(parent)
}

/// Whether `role` is `ancestor` itself or one of its descendants.
pub fn is_in_subtree(role: &str, ancestor: &str) -> bool {
    role == ancestor || is_strict_subrole_of(role, ancestor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_roles() {
        for role in ["*", "eng", "eng/web", "a.b", "a-b", "_x", "a/b/c", "x*y"] {
            assert_eq!(validate_role(role), Ok(()), "{role}");
        }
    }

    #[test]
    fn invalid_roles() {
        type Check = fn(&RoleError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("", |e| matches!(e, RoleError::Empty)),
            ("/eng", |e| matches!(e, RoleError::LeadingSlash(_))),
            ("eng/", |e| matches!(e, RoleError::TrailingSlash(_))),
            ("a//b", |e| matches!(e, RoleError::EmptyComponent(_))),
            (".", |e| matches!(e, RoleError::DotComponent { .. })),
            ("a/..", |e| matches!(e, RoleError::DotComponent { .. })),
            ("a/*", |e| matches!(e, RoleError::StarComponent(_))),
            ("-a", |e| matches!(e, RoleError::LeadingDash { .. })),
            ("a/-b", |e| matches!(e, RoleError::LeadingDash { .. })),
            ("a b", |e| matches!(e, RoleError::InvalidCharacter { .. })),
            (" a", |e| matches!(e, RoleError::InvalidCharacter { .. })),
            ("a\t", |e| matches!(e, RoleError::InvalidCharacter { .. })),
            ("a\u{7f}", |e| {
                matches!(e, RoleError::InvalidCharacter { .. })
            }),
        ];
        for (role, check) in cases {
            let err = validate_role(role).unwrap_err();
            assert!(check(&err), "{role:?}: {err:?}");
        }
    }

    #[test]
    fn hierarchy() {
        assert!(is_strict_subrole_of("eng/web", "eng"));
        assert!(is_strict_subrole_of("eng/web/x", "eng"));
        assert!(!is_strict_subrole_of("eng", "eng"));
        assert!(!is_strict_subrole_of("engineering", "eng"));
        assert!(!is_strict_subrole_of("eng", "eng/web"));
        assert!(is_in_subtree("eng", "eng"));
    }
}
