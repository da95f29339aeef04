//! Cost of the wire codecs on a realistic scheduler event: an OFFERS event with 10 offers
//! of 5 resources each. Baselines in the same run: prost for protobuf, and serde_json
//! writing and parsing the same JSON as an untyped value for JSON (the floor for a codec
//! that goes through the schema at run time).

use criterion::{criterion_group, criterion_main, Criterion};
use mesos_core::proto::mesos::v1::scheduler::{event, Event};
use mesos_core::proto::mesos::v1::{value, AgentId, FrameworkId, Offer, OfferId, Resource};
use mesos_core::{json, protobuf, recordio};
use prost::Message;

fn scalar(name: &str, amount: f64) -> Resource {
    Resource {
        name: name.into(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value: amount }),
        ..Default::default()
    }
}

fn offers_event() -> Event {
    let offers = (0..10)
        .map(|i| Offer {
            id: OfferId {
                value: format!("offer-{i}"),
            },
            framework_id: FrameworkId {
                value: "framework-0000".into(),
            },
            agent_id: AgentId {
                value: format!("agent-S{i}"),
            },
            hostname: format!("host-{i}.example"),
            resources: vec![
                scalar("cpus", 8.0),
                scalar("mem", 32768.0),
                scalar("disk", 100000.0),
                scalar("gpus", 1.0),
                Resource {
                    name: "ports".into(),
                    r#type: value::Type::Ranges as i32,
                    ranges: Some(value::Ranges {
                        range: vec![value::Range {
                            begin: 31000,
                            end: 32000,
                        }],
                    }),
                    ..Default::default()
                },
            ],
            ..Default::default()
        })
        .collect();
    Event {
        r#type: Some(event::Type::Offers as i32),
        offers: Some(event::Offers { offers }),
        ..Default::default()
    }
}

fn codecs(c: &mut Criterion) {
    let event = offers_event();
    let bytes = event.encode_to_vec();
    let text = json::to_string(&event);
    let mut group = c.benchmark_group("offers_event");
    group.bench_function("protobuf_encode (prost, baseline)", |b| {
        b.iter(|| event.encode_to_vec())
    });
    group.bench_function("protobuf_decode (prost, baseline)", |b| {
        b.iter(|| Event::decode(bytes.as_slice()))
    });
    group.bench_function("protobuf_decode_checked", |b| {
        b.iter(|| protobuf::decode::<Event>(&bytes))
    });
    let value: serde_json::Value = serde_json::from_str(&text).expect("our own JSON");
    group.bench_function("json_text_of_value (serde_json, baseline)", |b| {
        b.iter(|| serde_json::to_string(&value))
    });
    group.bench_function("json_encode", |b| b.iter(|| json::to_string(&event)));
    group.bench_function("json_parse_to_value (serde_json, baseline)", |b| {
        b.iter(|| serde_json::from_str::<serde_json::Value>(&text))
    });
    group.bench_function("json_decode", |b| {
        b.iter(|| json::from_slice::<Event>(text.as_bytes()))
    });
    group.bench_function("recordio_frame_and_decode", |b| {
        b.iter(|| {
            let framed = recordio::encode(&bytes);
            recordio::Decoder::default().decode(&framed)
        })
    });
    group.finish();
}

criterion_group!(benches, codecs);
criterion_main!(benches);
