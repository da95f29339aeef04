//! `POST /api/v1` (also `/slave(1)/api/v1`) on the agent: the v1 agent operator API.
//!
//! Wire checks as everywhere (405, 415, 400, 406); queries answer 200 with a
//! `mesos.v1.agent.Response` in the negotiated format, KILL_CONTAINER answers 200 with an
//! empty body, calls the agent does not implement answer 400 naming the call.

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::post;
use axum::Router;

use super::json_api::{sample, JsonApi};
use crate::http::{
    mesos_405, message_response, response_format_of, version_info, CallBody, HttpError,
};
use crate::proto::mesos::v1::agent::{call, response, Call, Response};
use crate::proto::mesos::v1::{
    ContainerId, ContainerStatus, ExecutorId, Flag, FrameworkId, Metric,
};

/// The operator API routes.
pub(super) fn routes(api: JsonApi) -> Router {
    let endpoint = mesos_405(post(operator), &[Method::POST]);
    Router::new()
        .route("/api/v1", endpoint.clone())
        .route("/slave(1)/api/v1", endpoint)
        .with_state(api)
}

fn typed(kind: response::Type) -> Response {
    Response {
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

async fn operator(
    State(api): State<JsonApi>,
    headers: HeaderMap,
    body: CallBody<Call>,
) -> Result<HttpResponse, HttpError> {
    let call = body.message;
    let kind = call::Type::try_from(call.r#type.unwrap_or(0)).unwrap_or(call::Type::Unknown);
    let format = response_format_of(&headers)?;
    let handle = &api.handle;
    let answer = match kind {
        call::Type::Unknown => {
            return Err(HttpError::bad_request("Expecting 'type' to be present"))
        }
        call::Type::GetHealth => Response {
            get_health: Some(response::GetHealth { healthy: true }),
            ..typed(response::Type::GetHealth)
        },
        call::Type::GetFlags => {
            let flags = handle.run(|s| s.options.flags.clone()).await?;
            Response {
                get_flags: Some(response::GetFlags {
                    flags: flags
                        .into_iter()
                        .map(|(name, value)| Flag {
                            name,
                            value: Some(value),
                        })
                        .collect(),
                }),
                ..typed(response::Type::GetFlags)
            }
        }
        call::Type::GetVersion => Response {
            get_version: Some(response::GetVersion {
                version_info: version_info(),
            }),
            ..typed(response::Type::GetVersion)
        },
        call::Type::GetLoggingLevel => Response {
            get_logging_level: Some(response::GetLoggingLevel {
                level: crate::logging::verbosity(),
            }),
            ..typed(response::Type::GetLoggingLevel)
        },
        call::Type::GetMetrics => {
            let metrics = handle.run(|s| s.metrics()).await?;
            Response {
                get_metrics: Some(response::GetMetrics {
                    metrics: metrics
                        .into_iter()
                        .map(|(name, value)| Metric {
                            name,
                            value: Some(value),
                        })
                        .collect(),
                }),
                ..typed(response::Type::GetMetrics)
            }
        }
        call::Type::GetState => Response {
            get_state: Some(handle.run(|s| s.get_state()).await?),
            ..typed(response::Type::GetState)
        },
        call::Type::GetFrameworks => Response {
            get_frameworks: Some(handle.run(|s| s.get_frameworks()).await?),
            ..typed(response::Type::GetFrameworks)
        },
        call::Type::GetExecutors => Response {
            get_executors: Some(handle.run(|s| s.get_executors()).await?),
            ..typed(response::Type::GetExecutors)
        },
        call::Type::GetTasks => Response {
            get_tasks: Some(handle.run(|s| s.get_tasks()).await?),
            ..typed(response::Type::GetTasks)
        },
        call::Type::GetAgent => Response {
            get_agent: Some(response::GetAgent {
                agent_info: Some(handle.run(|s| s.info.clone()).await?),
                ..Default::default()
            }),
            ..typed(response::Type::GetAgent)
        },
        call::Type::GetContainers => {
            let containers = sample(&api)
                .await?
                .into_iter()
                .map(|(v, stats)| response::get_containers::Container {
                    framework_id: Some(FrameworkId {
                        value: v.framework_id,
                    }),
                    executor_id: Some(ExecutorId {
                        value: v.executor_id,
                    }),
                    executor_name: Some(v.executor_name),
                    container_id: ContainerId {
                        value: v.container_id.clone(),
                        ..Default::default()
                    },
                    container_status: Some(ContainerStatus {
                        container_id: Some(ContainerId {
                            value: v.container_id,
                            ..Default::default()
                        }),
                        executor_pid: v.pid.map(|p| p as u32),
                        ..Default::default()
                    }),
                    resource_statistics: stats,
                })
                .collect();
            Response {
                get_containers: Some(response::GetContainers { containers }),
                ..typed(response::Type::GetContainers)
            }
        }
        call::Type::ListFiles => {
            let list = call
                .list_files
                .ok_or_else(|| HttpError::bad_request("Expecting 'list_files' to be present"))?;
            Response {
                list_files: Some(api.files.list_files(&list)?),
                ..typed(response::Type::ListFiles)
            }
        }
        call::Type::ReadFile => {
            let read = call
                .read_file
                .ok_or_else(|| HttpError::bad_request("Expecting 'read_file' to be present"))?;
            Response {
                read_file: Some(api.files.read_file(&read)?),
                ..typed(response::Type::ReadFile)
            }
        }
        call::Type::SetLoggingLevel => {
            let set = call.set_logging_level.map(|set| (set.level, set.duration));
            crate::logging::set_from_call(set).map_err(HttpError::bad_request)?;
            return Ok(StatusCode::OK.into_response());
        }
        call::Type::KillContainer => {
            let kill = call.kill_container.ok_or_else(|| {
                HttpError::bad_request("Expecting 'kill_container' to be present")
            })?;
            let id = kill.container_id.value;
            handle
                .run(move |s| s.kill_container(&id))
                .await?
                .map_err(HttpError::not_found)?;
            return Ok(StatusCode::OK.into_response());
        }
        other => {
            return Err(HttpError::bad_request(format!(
                "{} is not supported by this agent",
                other.as_str_name()
            )))
        }
    };
    Ok(message_response(StatusCode::OK, format, &answer))
}
