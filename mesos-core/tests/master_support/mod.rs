//! Shared by the master's integration tests: a master with simulated agents, and a small
//! JSON scheduler client that reads the event stream the way pymesos does.

use std::net::SocketAddr;
use std::time::Duration;

use mesos_core::agent::simulated::{SimulatedAgent, SimulatedAgentOptions};
use mesos_core::recordio;
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// How long a test waits for an event before failing.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(20);

/// POSTs an operator call in JSON to `master`'s `/api/v1`: the status and the body (JSON
/// when there is one).
pub async fn operator_call(master: SocketAddr, call: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("http://{master}/api/v1"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .body(call.to_string())
        .send()
        .await
        .expect("operator call");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// Starts a simulated agent with `resources` against `master`.
pub async fn agent(master: SocketAddr, name: &str, resources: &str) -> SimulatedAgent {
    let options = SimulatedAgentOptions::new(name, resources).expect("valid resources");
    SimulatedAgent::start(reqwest::Client::new(), master, options)
        .await
        .expect("agent registers")
}

/// A scheduler subscribed over JSON.
pub struct TestScheduler {
    client: reqwest::Client,
    url: String,
    /// The `Mesos-Stream-Id` of the subscription.
    pub stream_id: String,
    /// The framework id from SUBSCRIBED.
    pub framework_id: String,
    /// The SUBSCRIBED event.
    pub subscribed: Value,
    events: mpsc::UnboundedReceiver<Value>,
    /// Events read while looking for another type, by type, oldest first. Keyed so that
    /// finding the next event of a type does not scan the others (a long run queues
    /// thousands of OFFERS while it waits for UPDATEs).
    backlog: std::collections::HashMap<String, std::collections::VecDeque<Value>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for TestScheduler {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// A FrameworkInfo with `name`, role `role` and `capabilities` (names).
pub fn framework_info(name: &str, role: &str, capabilities: &[&str]) -> Value {
    let caps: Vec<Value> = capabilities.iter().map(|c| json!({"type": c})).collect();
    json!({"user": "root", "name": name, "roles": [role], "capabilities": caps})
}

impl TestScheduler {
    /// SUBSCRIBEs with `framework_info` (MULTI_ROLE is added when `roles` is used).
    pub async fn subscribe(master: SocketAddr, mut framework_info: Value) -> TestScheduler {
        if framework_info.get("roles").is_some() {
            let caps = framework_info["capabilities"]
                .as_array_mut()
                .expect("array");
            if !caps.iter().any(|c| c["type"] == "MULTI_ROLE") {
                caps.push(json!({"type": "MULTI_ROLE"}));
            }
        }
        let client = reqwest::Client::new();
        let url = format!("http://{master}/api/v1/scheduler");
        let mut call =
            json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": framework_info}});
        if let Some(id) = framework_info.get("id") {
            call["framework_id"] = id.clone();
        }
        let mut response = client
            .post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(call.to_string())
            .send()
            .await
            .expect("subscribe request");
        assert_eq!(
            response.status(),
            200,
            "{}",
            response.text().await.unwrap_or_default()
        );
        let stream_id = response.headers()["mesos-stream-id"]
            .to_str()
            .expect("ascii")
            .to_string();
        let (tx, mut events) = mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            let mut decoder = recordio::Decoder::default();
            while let Ok(Some(chunk)) = response.chunk().await {
                for record in decoder.decode(&chunk).expect("valid recordio") {
                    let event: Value = serde_json::from_slice(&record).expect("event is JSON");
                    if tx.send(event).is_err() {
                        return;
                    }
                }
            }
        });
        let subscribed = tokio::time::timeout(EVENT_TIMEOUT, events.recv())
            .await
            .expect("SUBSCRIBED in time")
            .expect("stream open");
        assert_eq!(subscribed["type"], "SUBSCRIBED", "{subscribed}");
        let framework_id = subscribed["subscribed"]["framework_id"]["value"]
            .as_str()
            .expect("framework id")
            .to_string();
        TestScheduler {
            client,
            url,
            stream_id,
            framework_id,
            subscribed,
            events,
            backlog: Default::default(),
            reader,
        }
    }

    /// The oldest kept event of `kind`.
    fn take_kept(&mut self, kind: &str) -> Option<Value> {
        self.backlog.get_mut(kind)?.pop_front()
    }

    /// Keeps `event` for a later call that asks for its type.
    fn keep(&mut self, event: Value) {
        let kind = event["type"].as_str().unwrap_or_default().to_string();
        self.backlog.entry(kind).or_default().push_back(event);
    }

    /// The next event of `kind`; other events (but HEARTBEATs) are kept for later.
    pub async fn next(&mut self, kind: &str) -> Value {
        if let Some(event) = self.take_kept(kind) {
            return event;
        }
        let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT;
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no {kind} event within {EVENT_TIMEOUT:?}"))
                .unwrap_or_else(|| panic!("stream ended before a {kind} event"));
            if event["type"] == kind {
                return event;
            }
            if event["type"] != "HEARTBEAT" {
                self.keep(event);
            }
        }
    }

    /// The next event of `kind` if one comes within `wait`; other events are kept.
    pub async fn next_within(&mut self, kind: &str, wait: Duration) -> Option<Value> {
        if let Some(event) = self.take_kept(kind) {
            return Some(event);
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) if event["type"] == kind => return Some(event),
                Ok(Some(event)) if event["type"] == "HEARTBEAT" => continue,
                Ok(Some(event)) => self.keep(event),
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// Sends a call (framework id filled in) with the stream id; returns status and body.
    pub async fn call(&self, mut call: Value) -> (u16, String) {
        call["framework_id"] = json!({"value": self.framework_id});
        self.call_with(call, Some(&self.stream_id)).await
    }

    /// Sends a call as is, with `stream_id` if given.
    pub async fn call_with(&self, call: Value, stream_id: Option<&str>) -> (u16, String) {
        let mut request = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .body(call.to_string());
        if let Some(id) = stream_id {
            request = request.header("mesos-stream-id", id);
        }
        let response = request.send().await.expect("call request");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// The first offer of the next OFFERS event.
    pub async fn offer(&mut self) -> Value {
        let event = self.next("OFFERS").await;
        event["offers"]["offers"][0].clone()
    }

    /// Accepts `offer` launching one command task `task_id` using `resources` (JSON).
    pub async fn launch(&self, offer: &Value, task_id: &str, resources: Value) -> (u16, String) {
        self.call(json!({
            "type": "ACCEPT",
            "accept": {
                "offer_ids": [offer["id"]],
                "operations": [{"type": "LAUNCH", "launch": {"task_infos": [{
                    "name": task_id,
                    "task_id": {"value": task_id},
                    "agent_id": offer["agent_id"],
                    "resources": resources,
                    "command": {"value": "sleep 1000"}
                }]}}],
                "filters": {"refuse_seconds": 0.0}
            }
        }))
        .await
    }

    /// Acknowledges an UPDATE event.
    pub async fn acknowledge(&self, update: &Value) {
        let status = &update["update"]["status"];
        let (code, body) = self
            .call(json!({
                "type": "ACKNOWLEDGE",
                "acknowledge": {
                    "agent_id": status["agent_id"],
                    "task_id": status["task_id"],
                    "uuid": status["uuid"]
                }
            }))
            .await;
        assert_eq!(code, 202, "{body}");
    }
}

/// Scalar resources in JSON, allocated to `role`.
pub fn scalars(role: &str, items: &[(&str, f64)]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|(name, value)| {
                json!({"name": name, "type": "SCALAR", "scalar": {"value": value},
                       "allocation_info": {"role": role}})
            })
            .collect(),
    )
}
