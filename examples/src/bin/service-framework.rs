//! `service-framework`: keeps `--instances` copies of `--command` running on the cluster,
//! replacing each one that dies. SIGUSR1 adds an instance, SIGUSR2 removes one, and the
//! HTTP API on `--http_port` answers `GET /status` and `POST /scale?instances=N`.
//! SIGINT or SIGTERM tears the framework down (its tasks are killed) and exits 0.

use std::process::ExitCode;

use clap::Parser;
use mesos_core::proto::mesos::v1::Status;
use mesos_core::scheduler::SchedulerDriver;
use mesos_examples::service_framework::{http_api, Service, ServiceConfig, ServiceControl};
use tokio::signal::unix::{signal, SignalKind};

#[derive(Debug, Parser)]
#[command(name = "service-framework", rename_all = "snake_case")]
struct Flags {
    /// The master: host:port or a comma-separated list of them.
    #[arg(long)]
    master: String,
    /// The service's name, also the prefix of its task ids.
    #[arg(long, default_value = "service")]
    name: String,
    /// How many instances to keep running.
    #[arg(long, default_value_t = 2)]
    instances: usize,
    /// The shell command each instance runs (it sees its number in $INSTANCE).
    #[arg(long, default_value = "sleep 1000000")]
    command: String,
    /// Each instance's resources.
    #[arg(long, default_value = "cpus:0.1;mem:32")]
    task_resources: String,
    /// The address the HTTP API listens on.
    #[arg(long, default_value = "127.0.0.1")]
    http_ip: String,
    /// The port of the HTTP API; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    http_port: u16,
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("service-framework: {message}");
    ExitCode::FAILURE
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let flags = Flags::parse();
    let config = ServiceConfig {
        name: flags.name.clone(),
        instances: flags.instances,
        command: flags.command,
        task_resources: flags.task_resources,
        verbose: true,
    };
    let service = match Service::new(config) {
        Ok(service) => service,
        Err(e) => return fail(e),
    };
    let handle = service.handle();
    let framework = Service::framework_info(&format!("Service Framework ({})", flags.name));
    let driver = match SchedulerDriver::new(service, framework, &flags.master) {
        Ok(driver) => driver,
        Err(e) => return fail(e),
    };
    let control = ServiceControl::new(handle, driver.clone());
    let listener =
        match tokio::net::TcpListener::bind((flags.http_ip.as_str(), flags.http_port)).await {
            Ok(listener) => listener,
            Err(e) => return fail(format!("cannot listen on {}: {e}", flags.http_ip)),
        };
    match listener.local_addr() {
        Ok(addr) => println!("Service API: http://{addr}"),
        Err(e) => return fail(e),
    }
    let api = http_api(control.clone());
    tokio::spawn(async move { axum::serve(listener, api).await });
    let (Ok(mut more), Ok(mut fewer), Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::user_defined1()),
        signal(SignalKind::user_defined2()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return fail("cannot install signal handlers");
    };
    driver.start();
    let joined = {
        let driver = driver.clone();
        tokio::task::spawn_blocking(move || driver.join())
    };
    tokio::pin!(joined);
    let status = loop {
        tokio::select! {
            _ = more.recv() => { control.scale_by(1); }
            _ = fewer.recv() => { control.scale_by(-1); }
            _ = interrupt.recv() => { driver.stop(false); }
            _ = terminate.recv() => { driver.stop(false); }
            status = &mut joined => break status.unwrap_or(Status::DriverAborted),
        }
    };
    match status {
        Status::DriverStopped => ExitCode::SUCCESS,
        status => fail(format!(
            "the driver ended {}: {}",
            status.as_str_name(),
            control
                .status()
                .error
                .or(driver.error_message())
                .unwrap_or_default()
        )),
    }
}
