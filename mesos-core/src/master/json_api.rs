//! The master's JSON endpoints over HTTP: `/master/state`, `/master/state-summary`,
//! `/master/frameworks`, `/master/slaves`, `/master/tasks`, `/master/roles`,
//! `/master/redirect`, `/master/teardown`, `/metrics/snapshot`, `/metrics/prometheus` and
//! `/flags`.
//!
//! `/master/state` is written in the owner task straight from the master's records
//! (`state_writer`); the other endpoints copy out the v1 state (`GetState` and friends)
//! and render the JSON outside the owner (`/master/state-summary` on a blocking thread).

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::json_endpoints::{
    frameworks_json, json_bytes, roles_json, slaves_json, state_summary_json, tasks_json,
    MasterSnapshot, RoleDetails, TasksQuery,
};
use super::metrics::{prometheus_text, snapshot_json};
use super::runtime::MasterHandle;
use super::state::MasterState;
use crate::http::{json_bytes_response, json_response, mesos_405, version_info, HttpError};
use crate::proto::mesos::v1::master::response::{GetAgents, GetRoles, GetState};
use crate::proto::mesos::v1::{value, MasterInfo, Resource, VersionInfo};

type Params = Query<BTreeMap<String, String>>;

/// The JSON endpoint routes. Like Mesos (whose master is libprocess' delegate), every
/// `/master/X` endpoint is also served as `/X`.
pub(super) fn routes(handle: MasterHandle) -> Router {
    let read = |router| mesos_405(router, &[Method::GET]);
    let endpoints = Router::new()
        .route("/state", read(get(state)))
        .route("/state.json", read(get(state)))
        .route("/state-summary", read(get(state_summary)))
        .route("/frameworks", read(get(frameworks)))
        .route("/slaves", read(get(slaves)))
        .route("/tasks", read(get(tasks)))
        .route("/tasks.json", read(get(tasks)))
        .route("/roles", read(get(roles)))
        .route("/roles.json", read(get(roles)))
        .route("/redirect", read(get(redirect)))
        .route("/flags", read(get(flags)))
        .route("/teardown", mesos_405(post(teardown), &[Method::POST]));
    Router::new()
        .merge(endpoints.clone())
        .nest("/master", endpoints)
        .route("/master/health", read(get(|| async { StatusCode::OK })))
        .route("/metrics/snapshot", read(get(metrics)))
        .route("/metrics/prometheus", read(get(prometheus)))
        .with_state(handle)
}

/// What `/master/state-summary` renders, copied out of the owner task.
struct Copied {
    state: GetState,
    master_info: MasterInfo,
    start_time: f64,
    unreachable_agents: usize,
}

/// What the JSON endpoints say of this master besides the cluster: it leads, elected
/// when it started.
fn snapshot<'a>(
    info: &'a MasterInfo,
    start_time: f64,
    unreachable_agents: usize,
    flags: &'a BTreeMap<String, String>,
    version: &'a VersionInfo,
) -> MasterSnapshot<'a> {
    MasterSnapshot {
        master_info: info,
        leader: Some(info),
        flags,
        start_time,
        elected_time: Some(start_time),
        version,
        unreachable_agents,
    }
}

/// `/master/state`, written in the owner task straight from the master's records: that
/// takes less of the owner's time than copying the state out to render it elsewhere.
async fn state(State(master): State<MasterHandle>) -> Result<Response, HttpError> {
    let flags = master.flags().clone();
    let written = master
        .run(move |s, _| {
            let version = version_info();
            let info = s.master_info();
            let unreachable = s.registry_state.unreachable.len();
            s.state_json(&snapshot(info, s.start_time, unreachable, &flags, &version))
        })
        .await?;
    Ok(json_bytes_response(written))
}

/// `/master/state-summary`, rendered on a blocking thread from a copy of the state.
async fn state_summary(State(master): State<MasterHandle>) -> Result<Response, HttpError> {
    let copied = master
        .run(|s, _| Copied {
            state: s.get_state(),
            master_info: s.master_info().clone(),
            start_time: s.start_time,
            unreachable_agents: s.registry_state.unreachable.len(),
        })
        .await?;
    let flags = master.flags().clone();
    let rendered = tokio::task::spawn_blocking(move || {
        let version = version_info();
        let info = &copied.master_info;
        let unreachable = copied.unreachable_agents;
        let snapshot = snapshot(info, copied.start_time, unreachable, &flags, &version);
        json_bytes_response(json_bytes(&state_summary_json(&snapshot, &copied.state)))
    })
    .await;
    rendered.map_err(|e| HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

async fn frameworks(
    State(master): State<MasterHandle>,
    Query(params): Params,
) -> Result<Response, HttpError> {
    let state = master.run(|s, _| s.get_state()).await?;
    let id = params.get("framework_id").map(String::as_str);
    Ok(json_response(&frameworks_json(&state, id)))
}

async fn slaves(
    State(master): State<MasterHandle>,
    Query(params): Params,
) -> Result<Response, HttpError> {
    let agents: GetAgents = master.run(|s, _| s.get_agents()).await?;
    let id = params.get("slave_id").map(String::as_str);
    Ok(json_response(&slaves_json(&agents, id)))
}

async fn tasks(
    State(master): State<MasterHandle>,
    Query(params): Params,
) -> Result<Response, HttpError> {
    let state = master.run(|s, _| s.get_state()).await?;
    Ok(json_response(&tasks_json(
        &state,
        &TasksQuery::from_params(&params),
    )))
}

async fn roles(State(master): State<MasterHandle>) -> Result<Response, HttpError> {
    let (roles, details): (GetRoles, BTreeMap<String, RoleDetails>) = master
        .run(|s, _| {
            let roles = s.get_roles();
            let details = roles
                .roles
                .iter()
                .map(|r| (r.name.clone(), s.role_details(&r.name)))
                .collect();
            (roles, details)
        })
        .await?;
    Ok(json_response(&roles_json(&roles, &details)))
}

async fn redirect(State(master): State<MasterHandle>) -> Result<Response, HttpError> {
    let info = master.run(|s, _| s.master_info().clone()).await?;
    let address = info.address.unwrap_or_default();
    let host = address.hostname.or(address.ip).unwrap_or_default();
    let location = format!("//{host}:{}", address.port);
    let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, value);
    }
    Ok(response)
}

async fn flags(State(master): State<MasterHandle>) -> Response {
    crate::http::flags_response(master.flags())
}

async fn metrics(State(master): State<MasterHandle>) -> Result<Response, HttpError> {
    let snapshot = master.run(|s, _| s.metrics_snapshot()).await?;
    Ok(json_response(&snapshot_json(&snapshot)))
}

async fn prometheus(State(master): State<MasterHandle>) -> Result<Response, HttpError> {
    let snapshot = master.run(|s, _| s.metrics_snapshot()).await?;
    let mut response = prometheus_text(&snapshot).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    Ok(response)
}

/// `POST /master/teardown` with a form body `frameworkId=<id>`, as Mesos takes it.
async fn teardown(State(master): State<MasterHandle>, body: String) -> Result<Response, HttpError> {
    let id = body
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "frameworkId")
        .map(|(_, v)| v.to_string())
        .ok_or_else(|| HttpError::bad_request("Missing 'frameworkId' query parameter"))?;
    master.run(move |s, _| s.teardown(&id)).await??;
    Ok(StatusCode::OK.into_response())
}

/// Scalar resources of `quantities`, for the roles endpoint.
fn scalar_resources(quantities: &BTreeMap<String, f64>) -> Vec<Resource> {
    quantities
        .iter()
        .map(|(name, value)| Resource {
            name: name.clone(),
            r#type: value::Type::Scalar as i32,
            scalar: Some(value::Scalar { value: *value }),
            ..Default::default()
        })
        .collect()
}

impl MasterState {
    /// What `/master/roles` shows of `role` besides its v1 `Role`: allocation, offers,
    /// reservations and quota.
    pub(crate) fn role_details(&self, role: &str) -> RoleDetails {
        let mut offered = crate::resources::Resources::new();
        for offer in self.offers.values() {
            offered += offer.resources.allocated_to(role);
        }
        let mut reserved = crate::resources::Resources::new();
        for agent in self.agents.values() {
            reserved += agent.total.reserved_to_role_subtree(role);
        }
        let quota = self.quota(role).unwrap_or_default();
        RoleDetails {
            allocated: scalar_resources(&self.allocator.role_allocation(role)),
            offered: offered.to_protos(),
            reserved: reserved.to_protos(),
            quota_guarantee: quota.guarantees,
            quota_limit: quota.limits,
            quota_consumed: self.allocator.role_consumed_quota(role),
        }
    }
}
