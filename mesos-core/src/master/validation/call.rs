//! The message-level checks of a v1 scheduler `Call` (Mesos'
//! `validation::scheduler::call::validate`).

use crate::proto::mesos::v1 as pb;
use crate::proto::mesos::v1::scheduler::{call, Call};

/// The prefix of every scheduler call validation error in the HTTP response body.
const PREFIX: &str = "Failed to validate scheduler::Call: ";

/// Checks a scheduler `Call` before the master looks at anything else, returning the full
/// body Mesos sends with its `400 Bad Request`, e.g. `Failed to validate scheduler::Call:
/// Expecting 'framework_id' to be present`.
///
/// As in Mesos: `type` must be set to a known value; SUBSCRIBE must carry `subscribe`
/// whose `framework_info.id` equals `framework_id` (both may be absent); every other call
/// needs `framework_id` and its payload (REVIVE, SUPPRESS and TEARDOWN need none);
/// ACKNOWLEDGE and ACKNOWLEDGE_OPERATION_STATUS need a valid UUID (16 bytes, version 1
/// to 5), the latter also `agent_id`; UPDATE_FRAMEWORK's `framework_info.id` must equal
/// `framework_id`. An explicit `UNKNOWN` type passes, as in Mesos, whose handler then
/// answers `501 Not Implemented`.
pub fn validate_scheduler_call(call: &Call) -> Result<(), String> {
    check(call).map_err(|reason| format!("{PREFIX}{reason}"))
}

/// The check Mesos makes right after [`validate_scheduler_call`] passes, when the
/// scheduler authenticated as `principal`: a SUBSCRIBE whose `framework_info.principal` is
/// set must name that principal. Returns the full response body, e.g. ``Failed to
/// validate scheduler::Call: Authenticated principal 'a' does not match principal 'b' set
/// in `FrameworkInfo` ``.
pub fn validate_call_principal(call: &Call, principal: Option<&str>) -> Result<(), String> {
    let Some(subscribe) = call
        .subscribe
        .as_ref()
        .filter(|_| call.r#type == Some(call::Type::Subscribe as i32))
    else {
        return Ok(());
    };
    match (principal, subscribe.framework_info.principal.as_deref()) {
        (Some(authenticated), Some(declared)) if authenticated != declared => Err(format!(
            "{PREFIX}Authenticated principal '{authenticated}' does not match principal \
             '{declared}' set in `FrameworkInfo`"
        )),
        _ => Ok(()),
    }
}

fn check(c: &Call) -> Result<(), &'static str> {
    use call::Type;
    // A number outside the enum is what an unknown enum value decodes to; C++ keeps it
    // among the unknown fields, so `type` counts as absent.
    let Some(kind) = c.r#type.and_then(|t| Type::try_from(t).ok()) else {
        return Err("Expecting 'type' to be present");
    };

    if kind == Type::Subscribe {
        let Some(subscribe) = &c.subscribe else {
            return Err("Expecting 'subscribe' to be present");
        };
        if id_value(subscribe.framework_info.id.as_ref()) != id_value(c.framework_id.as_ref()) {
            return Err("'framework_id' differs from 'subscribe.framework_info.id'");
        }
        return Ok(());
    }

    if c.framework_id.is_none() {
        return Err("Expecting 'framework_id' to be present");
    }

    let present = |ok: bool, missing: &'static str| if ok { Ok(()) } else { Err(missing) };
    match kind {
        Type::Subscribe | Type::Teardown | Type::Revive | Type::Suppress | Type::Unknown => Ok(()),
        Type::Accept => present(c.accept.is_some(), "Expecting 'accept' to be present"),
        Type::Decline => present(c.decline.is_some(), "Expecting 'decline' to be present"),
        Type::AcceptInverseOffers => present(
            c.accept_inverse_offers.is_some(),
            "Expecting 'accept_inverse_offers' to be present",
        ),
        Type::DeclineInverseOffers => present(
            c.decline_inverse_offers.is_some(),
            "Expecting 'decline_inverse_offers' to be present",
        ),
        Type::Kill => present(c.kill.is_some(), "Expecting 'kill' to be present"),
        Type::Shutdown => present(c.shutdown.is_some(), "Expecting 'shutdown' to be present"),
        Type::Acknowledge => {
            let Some(ack) = &c.acknowledge else {
                return Err("Expecting 'acknowledge' to be present");
            };
            valid_uuid(&ack.uuid)
        }
        Type::AcknowledgeOperationStatus => {
            let Some(ack) = &c.acknowledge_operation_status else {
                return Err("Expecting 'acknowledge_operation_status' to be present");
            };
            valid_uuid(&ack.uuid)?;
            present(ack.agent_id.is_some(), "Expecting 'agent_id' to be present")
        }
        Type::Reconcile => present(c.reconcile.is_some(), "Expecting 'reconcile' to be present"),
        Type::ReconcileOperations => present(
            c.reconcile_operations.is_some(),
            "Expecting 'reconcile_operations' to be present",
        ),
        Type::Message => present(c.message.is_some(), "Expecting 'message' to be present"),
        Type::Request => present(c.request.is_some(), "Expecting 'request' to be present"),
        Type::UpdateFramework => {
            let Some(update) = &c.update_framework else {
                return Err("Expecting 'update_framework' to be present");
            };
            if id_value(update.framework_info.id.as_ref()) != id_value(c.framework_id.as_ref()) {
                return Err("'framework_id' differs from 'update_framework.framework_info.id'");
            }
            Ok(())
        }
    }
}

/// The value of an optional framework ID, `""` when absent (as C++ reads an unset field).
fn id_value(id: Option<&pb::FrameworkId>) -> &str {
    id.map_or("", |id| id.value.as_str())
}

/// Whether `bytes` is a UUID as stout's `UUID::fromBytes` accepts it: 16 bytes whose
/// version nibble is 1 to 5.
fn valid_uuid(bytes: &[u8]) -> Result<(), &'static str> {
    match bytes.get(6) {
        Some(octet) if bytes.len() == 16 && (1..=5).contains(&(octet >> 4)) => Ok(()),
        _ => Err("Not a valid UUID"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use prost::Message;

    fn fid(v: &str) -> Option<pb::FrameworkId> {
        Some(pb::FrameworkId { value: v.into() })
    }

    fn framework(id: Option<pb::FrameworkId>) -> pb::FrameworkInfo {
        pb::FrameworkInfo {
            user: "u".into(),
            name: "n".into(),
            id,
            ..Default::default()
        }
    }

    fn call(kind: call::Type) -> Call {
        Call {
            framework_id: fid("f1"),
            r#type: Some(kind as i32),
            ..Default::default()
        }
    }

    fn uuid_v4() -> Vec<u8> {
        let mut b = vec![0x11u8; 16];
        b[6] = 0x4a;
        b
    }

    fn reason(c: &Call) -> String {
        validate_scheduler_call(c).unwrap_err()
    }

    #[test]
    fn type_must_be_present_and_known() {
        let none = Call::default();
        assert_eq!(
            reason(&none),
            "Failed to validate scheduler::Call: Expecting 'type' to be present"
        );
        let unknown_number = Call {
            r#type: Some(99),
            ..call(call::Type::Teardown)
        };
        assert_eq!(
            reason(&unknown_number),
            "Failed to validate scheduler::Call: Expecting 'type' to be present"
        );
        assert_eq!(validate_scheduler_call(&call(call::Type::Unknown)), Ok(()));
    }

    #[test]
    fn framework_id_required_except_subscribe() {
        let mut c = call(call::Type::Teardown);
        assert_eq!(validate_scheduler_call(&c), Ok(()));
        c.framework_id = None;
        assert_eq!(
            reason(&c),
            "Failed to validate scheduler::Call: Expecting 'framework_id' to be present"
        );
    }

    #[test]
    fn subscribe() {
        let mut c = call(call::Type::Subscribe);
        c.framework_id = None;
        assert_eq!(
            reason(&c),
            "Failed to validate scheduler::Call: Expecting 'subscribe' to be present"
        );
        c.subscribe = Some(call::Subscribe {
            framework_info: framework(None),
            ..Default::default()
        });
        assert_eq!(validate_scheduler_call(&c), Ok(()));

        c.framework_id = fid("f1");
        assert_eq!(
            reason(&c),
            "Failed to validate scheduler::Call: 'framework_id' differs from \
             'subscribe.framework_info.id'"
        );
        c.subscribe.as_mut().unwrap().framework_info.id = fid("f1");
        assert_eq!(validate_scheduler_call(&c), Ok(()));
    }

    #[test]
    fn payloads_required() {
        use call::Type;
        let cases = [
            (Type::Accept, "accept"),
            (Type::Decline, "decline"),
            (Type::AcceptInverseOffers, "accept_inverse_offers"),
            (Type::DeclineInverseOffers, "decline_inverse_offers"),
            (Type::Kill, "kill"),
            (Type::Shutdown, "shutdown"),
            (Type::Acknowledge, "acknowledge"),
            (
                Type::AcknowledgeOperationStatus,
                "acknowledge_operation_status",
            ),
            (Type::Reconcile, "reconcile"),
            (Type::ReconcileOperations, "reconcile_operations"),
            (Type::Message, "message"),
            (Type::Request, "request"),
            (Type::UpdateFramework, "update_framework"),
        ];
        for (kind, field) in cases {
            assert_eq!(
                reason(&call(kind)),
                format!("{PREFIX}Expecting '{field}' to be present"),
                "{kind:?}"
            );
        }
        for kind in [Type::Revive, Type::Suppress, Type::Teardown] {
            assert_eq!(validate_scheduler_call(&call(kind)), Ok(()), "{kind:?}");
        }
    }

    #[test]
    fn payloads_present() {
        let mut c = call(call::Type::Accept);
        c.accept = Some(call::Accept::default());
        assert_eq!(validate_scheduler_call(&c), Ok(()));
        let mut c = call(call::Type::Reconcile);
        c.reconcile = Some(call::Reconcile::default());
        assert_eq!(validate_scheduler_call(&c), Ok(()));
    }

    #[test]
    fn acknowledge_uuid() {
        let mut c = call(call::Type::Acknowledge);
        c.acknowledge = Some(call::Acknowledge {
            uuid: uuid_v4(),
            ..Default::default()
        });
        assert_eq!(validate_scheduler_call(&c), Ok(()));
        for bad in [vec![], vec![0u8; 16], vec![0x40u8; 15]] {
            c.acknowledge.as_mut().unwrap().uuid = bad;
            assert_eq!(reason(&c), format!("{PREFIX}Not a valid UUID"));
        }
    }

    #[test]
    fn acknowledge_operation_status() {
        let mut c = call(call::Type::AcknowledgeOperationStatus);
        c.acknowledge_operation_status = Some(call::AcknowledgeOperationStatus {
            uuid: uuid_v4(),
            ..Default::default()
        });
        assert_eq!(
            reason(&c),
            format!("{PREFIX}Expecting 'agent_id' to be present")
        );
        c.acknowledge_operation_status.as_mut().unwrap().agent_id =
            Some(pb::AgentId { value: "a".into() });
        assert_eq!(validate_scheduler_call(&c), Ok(()));
        c.acknowledge_operation_status.as_mut().unwrap().uuid = vec![1, 2, 3];
        assert_eq!(reason(&c), format!("{PREFIX}Not a valid UUID"));
    }

    #[test]
    fn update_framework_id_must_match() {
        let mut c = call(call::Type::UpdateFramework);
        c.update_framework = Some(call::UpdateFramework {
            framework_info: framework(fid("other")),
            ..Default::default()
        });
        assert_eq!(
            reason(&c),
            format!("{PREFIX}'framework_id' differs from 'update_framework.framework_info.id'")
        );
        c.update_framework.as_mut().unwrap().framework_info.id = fid("f1");
        assert_eq!(validate_scheduler_call(&c), Ok(()));
    }

    #[test]
    fn subscribe_principal_must_match_authenticated() {
        let mut c = call(call::Type::Subscribe);
        c.framework_id = None;
        let mut info = framework(None);
        info.principal = Some("ops".into());
        c.subscribe = Some(call::Subscribe {
            framework_info: info,
            ..Default::default()
        });
        assert_eq!(validate_call_principal(&c, Some("ops")), Ok(()));
        assert_eq!(validate_call_principal(&c, None), Ok(()));
        assert_eq!(
            validate_call_principal(&c, Some("dev")).unwrap_err(),
            format!(
                "{PREFIX}Authenticated principal 'dev' does not match principal 'ops' set in \
                 `FrameworkInfo`"
            )
        );
        c.subscribe.as_mut().unwrap().framework_info.principal = None;
        assert_eq!(validate_call_principal(&c, Some("dev")), Ok(()));
        assert_eq!(
            validate_call_principal(&call(call::Type::Teardown), Some("dev")),
            Ok(())
        );
    }

    proptest! {
        #[test]
        fn never_panics_on_decoded_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(c) = Call::decode(bytes.as_slice()) {
                let _ = validate_scheduler_call(&c);
            }
        }

        #[test]
        fn never_panics_on_any_type_and_payloads(
            kind in proptest::option::of(-2i32..25),
            with_id in any::<bool>(),
            uuid in proptest::collection::vec(any::<u8>(), 0..20),
        ) {
            let c = Call {
                framework_id: with_id.then(|| pb::FrameworkId { value: "f".into() }),
                r#type: kind,
                acknowledge: Some(call::Acknowledge { uuid: uuid.clone(), ..Default::default() }),
                acknowledge_operation_status: Some(call::AcknowledgeOperationStatus {
                    uuid,
                    ..Default::default()
                }),
                ..Default::default()
            };
            let _ = validate_scheduler_call(&c);
        }
    }
}
