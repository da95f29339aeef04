//! Fuzz-style properties: arbitrary input never makes a codec panic, and every error says
//! what is wrong. Also the RecordIO law: any records, framed and cut into any chunks,
//! decode to the same records.

use mesos_core::proto::mesos::v1::{executor, master, scheduler};
use mesos_core::{json, protobuf, recordio};
use proptest::prelude::*;
use serde_json::Value;

const VALID_CALL: &str = r#"{"framework_id":{"value":"f-1"},"type":"ACCEPT","accept":{"offer_ids":[{"value":"o-1"}],"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"t","task_id":{"value":"t-1"},"agent_id":{"value":"a-1"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.5}},{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":31001}]}}],"command":{"value":"sleep 1"}}]}}],"filters":{"refuse_seconds":5.0}}}"#;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-zA-Z_ ]{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("SUBSCRIBE"),
            Just("ACCEPT"),
            Just("TASK_RUNNING"),
            Just("SCALAR"),
            Just("AAAA")
        ]
        .prop_map(Value::from),
    ];
    let keys = prop_oneof![
        Just("type".to_string()),
        Just("framework_id".to_string()),
        Just("value".to_string()),
        Just("subscribe".to_string()),
        Just("framework_info".to_string()),
        Just("accept".to_string()),
        Just("offer_ids".to_string()),
        Just("operations".to_string()),
        Just("resources".to_string()),
        Just("scalar".to_string()),
        "[a-z_]{1,10}",
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

fn check_json_bytes(bytes: &[u8]) {
    match json::from_slice::<scheduler::Call>(bytes) {
        Ok(call) => {
            // Whatever was accepted can be written and read back.
            let text = json::to_string(&call);
            let again: scheduler::Call = json::from_slice(text.as_bytes()).expect("own output");
            assert_eq!(json::to_string(&again), text);
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
    if let Err(error) = json::from_slice::<executor::Call>(bytes) {
        assert!(!error.to_string().is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_the_json_reader(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        check_json_bytes(&bytes);
    }

    #[test]
    fn mutated_calls_never_panic_the_json_reader(
        at in 0..VALID_CALL.len(),
        cut in 0usize..8,
        insert in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let mut bytes = VALID_CALL.as_bytes().to_vec();
        let end = (at + cut).min(bytes.len());
        bytes.splice(at..end, insert);
        check_json_bytes(&bytes);
    }

    #[test]
    fn arbitrary_json_values_never_panic_the_reader(value in json_value()) {
        for result in [
            json::from_value::<scheduler::Call>(&value).map(|_| ()),
            json::from_value::<master::Call>(&value).map(|_| ()),
            json::from_value::<executor::Event>(&value).map(|_| ()),
        ] {
            if let Err(error) = result {
                prop_assert!(!error.to_string().is_empty());
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_protobuf_reader(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        for result in [
            protobuf::decode::<scheduler::Call>(&bytes).map(|_| ()),
            protobuf::decode::<scheduler::Event>(&bytes).map(|_| ()),
            protobuf::decode::<master::Response>(&bytes).map(|_| ()),
        ] {
            if let Err(error) = result {
                prop_assert!(!error.to_string().is_empty());
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_recordio_decoder(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        chunk in 1usize..32,
    ) {
        let mut decoder = recordio::Decoder::new(1024);
        let mut failed = false;
        for piece in bytes.chunks(chunk) {
            if let Err(error) = decoder.decode(piece) {
                prop_assert!(!error.to_string().is_empty());
                failed = true;
            }
        }
        if failed {
            prop_assert!(decoder.finish().is_err());
        }
    }

    #[test]
    fn framed_records_decode_from_any_chunking(
        records in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..8),
        chunk in 1usize..40,
    ) {
        let mut stream = Vec::new();
        for record in &records {
            recordio::encode_into(record, &mut stream);
        }
        let mut decoder = recordio::Decoder::new(64);
        let mut decoded = Vec::new();
        for piece in stream.chunks(chunk) {
            decoded.extend(decoder.decode(piece).expect("valid stream").into_iter().map(|b| b.to_vec()));
        }
        decoder.finish().expect("complete stream");
        prop_assert_eq!(decoded, records);
    }
}

#[test]
fn the_valid_call_is_valid() {
    let call: scheduler::Call = json::from_slice(VALID_CALL.as_bytes()).expect("valid");
    assert_eq!(call.r#type(), scheduler::call::Type::Accept);
}
