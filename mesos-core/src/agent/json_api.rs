//! The agent's JSON endpoints, in Mesos' shapes: `/state` (also `/slave(1)/state` and
//! `/state.json`), `/metrics/snapshot`, `/monitor/statistics` (also `.json`) and
//! `/containers`. State is copied out of the owner task as JSON; container usage is
//! sampled outside it.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value as Json};

use super::containerizer::Containerizer;
use super::runtime::AgentHandle;
use super::state::{AgentState, Executor, Framework};
use super::state_views::{statistics_proto, ContainerView};
use crate::http::{json_response, HttpError};
use crate::master::json_endpoints::{attributes_json, resources_json, task_json};
use crate::proto::mesos::v1 as pb;

/// What the JSON endpoints need.
#[derive(Clone)]
pub(super) struct JsonApi {
    pub(super) handle: AgentHandle,
    pub(super) containerizer: Arc<Containerizer>,
    pub(super) files: super::files::Files,
}

/// The JSON endpoint routes.
pub(super) fn routes(api: JsonApi) -> Router {
    Router::new()
        .route("/state", get(state))
        .route("/state.json", get(state))
        .route("/slave(1)/state", get(state))
        .route("/slave(1)/state.json", get(state))
        .route("/metrics/snapshot", get(metrics))
        .route("/monitor/statistics", get(statistics))
        .route("/monitor/statistics.json", get(statistics))
        .route("/containers", get(containers))
        .with_state(api)
}

async fn state(State(api): State<JsonApi>) -> Result<Response, HttpError> {
    let value = api.handle.run(|s| state_json(s)).await?;
    Ok(json_response(&value))
}

async fn metrics(State(api): State<JsonApi>) -> Result<Response, HttpError> {
    let metrics = api.handle.run(|s| s.metrics()).await?;
    Ok(json_response(&json!(metrics)))
}

/// Usage of every running container, sampled on the blocking pool.
pub(super) async fn sample(
    api: &JsonApi,
) -> Result<Vec<(ContainerView, Option<pb::ResourceStatistics>)>, HttpError> {
    let views = api.handle.run(|s| s.containers()).await?;
    let containerizer = api.containerizer.clone();
    tokio::task::spawn_blocking(move || {
        views
            .into_iter()
            .map(|v| {
                let stats = containerizer
                    .usage(&v.container_id)
                    .ok()
                    .map(|s| statistics_proto(&s));
                (v, stats)
            })
            .collect()
    })
    .await
    .map_err(|e| HttpError::service_unavailable(e.to_string()))
}

async fn statistics(State(api): State<JsonApi>) -> Result<Response, HttpError> {
    let sampled = sample(&api).await?;
    let entries: Vec<Json> = sampled
        .into_iter()
        .filter_map(|(v, stats)| {
            Some(json!({
                "executor_id": v.executor_id,
                "executor_name": v.executor_name,
                "framework_id": v.framework_id,
                "source": v.source,
                "statistics": crate::json::to_value(&stats?),
            }))
        })
        .collect();
    Ok(json_response(&Json::Array(entries)))
}

async fn containers(State(api): State<JsonApi>) -> Result<Response, HttpError> {
    let sampled = sample(&api).await?;
    let entries: Vec<Json> = sampled
        .into_iter()
        .map(|(v, stats)| {
            let mut entry = json!({
                "container_id": v.container_id,
                "executor_id": v.executor_id,
                "executor_name": v.executor_name,
                "framework_id": v.framework_id,
                "source": v.source,
                "status": {"container_id": {"value": v.container_id}, "executor_pid": v.pid},
            });
            if let Some(stats) = stats {
                entry["statistics"] = crate::json::to_value(&stats);
            }
            entry
        })
        .collect();
    Ok(json_response(&Json::Array(entries)))
}

fn executor_json(executor: &Executor) -> Json {
    let tasks = |terminal: bool| -> Vec<Json> {
        executor
            .tasks
            .values()
            .filter(|t| crate::master::is_terminal(t.state) == terminal)
            .map(task_json)
            .collect()
    };
    let mut completed = tasks(true);
    completed.extend(executor.completed_tasks.iter().map(task_json));
    let role = executor
        .resources
        .iter()
        .find_map(|r| r.allocation_info.as_ref().and_then(|a| a.role.clone()))
        .unwrap_or_else(|| "*".into());
    json!({
        "id": executor.info.executor_id.value,
        "name": executor.info.name.clone().unwrap_or_default(),
        "source": executor.info.source.clone().unwrap_or_default(),
        "container": executor.container_id,
        "directory": executor.directory.display().to_string(),
        "resources": resources_json(&executor.resources),
        "role": role,
        "tasks": tasks(false),
        "queued_tasks": [],
        "completed_tasks": completed,
    })
}

fn framework_json(framework: &Framework) -> Json {
    let info = &framework.info;
    json!({
        "id": info.id.as_ref().map(|i| i.value.clone()).unwrap_or_default(),
        "name": info.name,
        "user": info.user,
        "hostname": info.hostname.clone().unwrap_or_default(),
        "checkpoint": info.checkpoint.unwrap_or(false),
        "failover_timeout": info.failover_timeout.unwrap_or(0.0),
        "roles": info.roles,
        "executors": framework.executors.values().map(executor_json).collect::<Vec<_>>(),
        "completed_executors": framework.completed_executors.iter().map(executor_json).collect::<Vec<_>>(),
    })
}

/// `/state` as Mesos' agent writes it.
fn state_json(s: &AgentState) -> Json {
    let version = crate::http::version_info();
    let resources = &s.info.resources;
    let reserved: Vec<pb::Resource> = resources
        .iter()
        .filter(|r| !r.reservations.is_empty())
        .cloned()
        .collect();
    let unreserved: Vec<pb::Resource> = resources
        .iter()
        .filter(|r| r.reservations.is_empty())
        .cloned()
        .collect();
    let mut reserved_by_role: Map<String, Json> = Map::new();
    for r in &reserved {
        if let Some(role) = r.reservations.last().and_then(|x| x.role.clone()) {
            let same: Vec<pb::Resource> = reserved
                .iter()
                .filter(|x| {
                    x.reservations.last().and_then(|y| y.role.as_deref()) == Some(role.as_str())
                })
                .cloned()
                .collect();
            reserved_by_role.insert(role, resources_json(&same));
        }
    }
    json!({
        "id": s.agent_id().value,
        "pid": format!("slave(1)@{}", s.endpoint),
        "hostname": s.info.hostname,
        "master_hostname": s.master_info.as_ref().and_then(|m| m.hostname.clone()).unwrap_or_default(),
        "version": version.version,
        "build_date": version.build_date,
        "build_time": version.build_time,
        "build_user": version.build_user,
        "git_sha": version.git_sha,
        "git_branch": version.git_branch,
        "start_time": s.start_time,
        "capabilities": ["MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"],
        "attributes": attributes_json(&s.info.attributes),
        "resources": resources_json(resources),
        "reserved_resources": Json::Object(reserved_by_role),
        "unreserved_resources": resources_json(&unreserved),
        "reserved_resources_full": {},
        "unreserved_resources_full": unreserved.iter().map(crate::json::to_value).collect::<Vec<_>>(),
        "flags": s.options.flags,
        "frameworks": s.frameworks.values().map(framework_json).collect::<Vec<_>>(),
        "completed_frameworks": s.completed_frameworks.iter().map(framework_json).collect::<Vec<_>>(),
    })
}
