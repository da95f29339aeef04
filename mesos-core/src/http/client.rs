//! Pieces shared by the clients of Mesos' HTTP APIs (the executor's, the scheduler's).

/// `error` followed by the errors that caused it, `: `-separated (reqwest keeps the useful
/// part, "connection refused", in the causes).
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        text.push_str(": ");
        text.push_str(&error.to_string());
        cause = error.source();
    }
    text
}

/// The status code and body text of an answer a client did not expect (a refusal, whose
/// body is the server's reason).
pub async fn status_and_reason(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    (status, body)
}
