//! A framework on the v1 scheduler API in JSON, spoken by hand (no driver), for the
//! examples' tests to drive a cluster with.

use std::time::Duration;

use mesos_core::recordio;
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// How long a test waits for one event.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(30);

/// A framework on the JSON scheduler API, reading its event stream in the background.
pub struct Framework {
    client: reqwest::Client,
    url: String,
    stream_id: String,
    /// The framework's id.
    pub id: String,
    events: mpsc::UnboundedReceiver<Value>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Framework {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Framework {
    pub async fn subscribe(master: &str) -> Framework {
        let client = reqwest::Client::new();
        let url = format!("http://{master}/api/v1/scheduler");
        let call = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {
            "user": "root", "name": "examples test"}}});
        let mut response = client
            .post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(call.to_string())
            .send()
            .await
            .expect("subscribe request");
        assert_eq!(response.status(), 200);
        let stream_id = response.headers()["mesos-stream-id"]
            .to_str()
            .expect("ascii")
            .to_string();
        let (tx, events) = mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            let mut decoder = recordio::Decoder::default();
            while let Ok(Some(chunk)) = response.chunk().await {
                for record in decoder.decode(&chunk).expect("valid recordio") {
                    let event: Value = serde_json::from_slice(&record).expect("JSON event");
                    if tx.send(event).is_err() {
                        return;
                    }
                }
            }
        });
        let mut framework = Framework {
            client,
            url,
            stream_id,
            id: String::new(),
            events,
            reader,
        };
        let subscribed = framework.next("SUBSCRIBED").await;
        framework.id = subscribed["subscribed"]["framework_id"]["value"]
            .as_str()
            .expect("framework id")
            .to_string();
        framework
    }

    /// The next event of `kind`, skipping others.
    pub async fn next(&mut self, kind: &str) -> Value {
        let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT;
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no {kind} event within {EVENT_TIMEOUT:?}"))
                .unwrap_or_else(|| panic!("the stream ended before a {kind} event"));
            if event["type"] == kind {
                return event;
            }
        }
    }

    pub async fn call(&self, mut call: Value) {
        call["framework_id"] = json!({"value": self.id});
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("mesos-stream-id", &self.stream_id)
            .body(call.to_string())
            .send()
            .await
            .expect("call request");
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, 202, "{call}: {body}");
    }

    /// The next UPDATE's status, acknowledged.
    pub async fn update(&mut self) -> Value {
        let update = self.next("UPDATE").await;
        let status = update["update"]["status"].clone();
        if status["uuid"].is_null() {
            // Mesos only asks for acknowledgements of updates with a uuid.
            return status;
        }
        self.call(json!({"type": "ACKNOWLEDGE", "acknowledge": {
            "agent_id": status["agent_id"],
            "task_id": status["task_id"],
            "uuid": status["uuid"]
        }}))
        .await;
        status
    }

    /// Accepts `offer` with one command task running `command`.
    pub async fn launch(&self, offer: &Value, task_id: &str, command: &str) {
        let role = offer["allocation_info"]["role"].clone();
        let scalar = |name: &str, value: f64| {
            json!({"name": name, "type": "SCALAR", "scalar": {"value": value},
                   "allocation_info": {"role": role}})
        };
        self.call(json!({
            "type": "ACCEPT",
            "accept": {
                "offer_ids": [offer["id"]],
                "operations": [{"type": "LAUNCH", "launch": {"task_infos": [{
                    "name": task_id,
                    "task_id": {"value": task_id},
                    "agent_id": offer["agent_id"],
                    "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)],
                    "command": {"value": command}
                }]}}]
            }
        }))
        .await;
    }

    /// Acknowledges UPDATEs until task `task_id` reaches `state`; panics on a terminal
    /// state that is not it.
    pub async fn await_state(&mut self, task_id: &str, state: &str) {
        loop {
            let update = self.next("UPDATE").await;
            let status = &update["update"]["status"];
            if status.get("uuid").is_some() {
                self.call(json!({"type": "ACKNOWLEDGE", "acknowledge": {
                    "agent_id": status["agent_id"],
                    "task_id": status["task_id"],
                    "uuid": status["uuid"]}}))
                    .await;
            }
            if status["task_id"]["value"] != task_id {
                continue;
            }
            let reached = status["state"].as_str().expect("state");
            if reached == state {
                return;
            }
            let terminal = ["TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST"];
            assert!(!terminal.contains(&reached), "task {task_id}: {status}");
        }
    }
}
