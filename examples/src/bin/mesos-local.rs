//! `mesos-local`: a master and `--num_agents` agents in one process
//! ([`mesos_core::local::LocalCluster`]), until SIGINT or SIGTERM, when every agent shuts
//! its executors down and the process exits.
//!
//! The program is multi-call: started as `mesos-executor` or `mesos-default-executor` (the
//! links the cluster makes to it in `<work_dir>/bin`) it runs that built-in executor, so
//! the one binary is all a local cluster needs.
//!
//! It prints one `Name: value` line per address on stdout, e.g.
//! `Master: http://127.0.0.1:5050` and `Agent 0: http://127.0.0.1:39211`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ColorChoice, Parser};
use mesos_core::flags::{cli, LoggingLevel};
use mesos_core::local::{
    invoked_as_executor, ExecutorPrograms, LocalCluster, LocalOptions, DEFAULT_AGENT_RESOURCES,
};
use mesos_core::proto::mesos::v1::Status;
use mesos_core::scheduler::SchedulerDriver;
use mesos_examples::test_framework::{TestFramework, TestFrameworkConfig};

/// How long the agents are given to register before a warning is printed (they keep
/// trying afterwards).
const REGISTRATION_WAIT: Duration = Duration::from_secs(30);

/// mesos-local's flags.
#[derive(Debug, Parser)]
#[command(
    name = "mesos-local",
    about = "A local Mesos cluster: one master and some agents in one process.",
    long_about = None,
    rename_all = "snake_case",
    disable_help_flag = true,
    disable_version_flag = true,
    color = ColorChoice::Never,
    after_help = "Every flag can also be set through the environment variable \
                  MESOS_<FLAG NAME IN UPPER CASE>, e.g. MESOS_NUM_AGENTS=3; a flag on the \
                  command line wins over the environment."
)]
struct Flags {
    /// Number of agents to run.
    #[arg(long, default_value_t = 1)]
    num_agents: usize,

    /// Directory of the master's registry (master/) and the agents' work directories
    /// (agents/N/); kept on exit. A temporary directory, removed on exit, when not given.
    #[arg(long)]
    work_dir: Option<PathBuf>,

    /// IP address the master and the agents listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    ip: IpAddr,

    /// The master's port; 0 picks a free one.
    #[arg(long, default_value_t = 5050)]
    port: u16,

    /// The first agent's port, the next agents' following it; 0 picks free ones.
    #[arg(long, default_value_t = 0)]
    agent_port: u16,

    /// Resources of each agent, as the agent's --resources.
    #[arg(long, default_value = DEFAULT_AGENT_RESOURCES)]
    resources: String,

    /// Isolators of each agent, as the agent's --isolation (posix ones by default).
    #[arg(long)]
    isolation: Option<String>,

    /// How each agent starts containers, as the agent's --launcher (posix or linux).
    #[arg(long)]
    launcher: Option<String>,

    /// The least severe log level written to stderr: INFO, WARNING or ERROR.
    #[arg(long, value_enum, default_value = "INFO")]
    logging_level: LoggingLevel,

    /// Run a demo framework (the test framework with command tasks) once the agents are
    /// registered, print what it did, then stop the cluster and exit with its result.
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value_t = false, default_missing_value = "true")]
    demo: bool,

    /// How many tasks the demo framework runs.
    #[arg(long, default_value_t = 5)]
    demo_tasks: usize,
}

fn main() -> ExitCode {
    let mut args: Vec<_> = std::env::args_os().collect();
    if let Some(executor) = args.first().and_then(|argv0| invoked_as_executor(argv0)) {
        return mesos_core::executor::executor_main(executor);
    }
    if args.is_empty() {
        args.push("mesos-local".into());
    }
    let flags: Flags = match cli::parse(args, |name| std::env::var(name).ok()) {
        Ok(flags) => flags,
        Err(error) => return mesos_core::daemon::flags_exit("mesos-local", error),
    };
    let program = match std::env::current_exe() {
        Ok(program) => program,
        Err(e) => {
            eprintln!("mesos-local: cannot find this program's path: {e}");
            return ExitCode::FAILURE;
        }
    };
    mesos_core::logging::init(flags.logging_level);
    let options = LocalOptions {
        num_agents: flags.num_agents,
        work_dir: flags.work_dir,
        ip: flags.ip,
        port: flags.port,
        agent_port: flags.agent_port,
        resources: flags.resources,
        isolation: flags.isolation,
        launcher: flags.launcher,
        executors: ExecutorPrograms::MultiCall(program),
    };
    let runtime = match mesos_core::daemon::runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("mesos-local: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let demo_tasks = flags.demo.then_some(flags.demo_tasks);
    runtime.block_on(async move {
        let mut exit = ExitCode::SUCCESS;
        let cluster = match LocalCluster::start(options).await {
            Ok(cluster) => cluster,
            Err(e) => {
                eprintln!("mesos-local: {e}");
                return ExitCode::FAILURE;
            }
        };
        let signal = mesos_core::daemon::wait_for_signal();
        tokio::pin!(signal);
        // Polled once before the addresses are printed, so that the signal handlers are in
        // place by the time anyone has an address to use.
        let stopped_early = tokio::select! {
            biased;
            () = &mut signal => true,
            () = std::future::ready(()) => false,
        };
        if !stopped_early {
            print_addresses(&cluster);
            tokio::select! {
                registered = cluster.wait_for_agents(REGISTRATION_WAIT) => {
                    match registered {
                        Ok(()) => println!("Agents registered: {}", cluster.agent_addrs().len()),
                        Err(e) => eprintln!("mesos-local: {e}; they keep trying"),
                    }
                    if demo_tasks.is_some() {
                        let master = cluster.master_addr().to_string();
                        let demo = tokio::task::spawn_blocking(move || run_demo(&master, demo_tasks));
                        tokio::select! {
                            result = demo => exit = result.unwrap_or(ExitCode::FAILURE),
                            () = &mut signal => {}
                        }
                    } else {
                        signal.await;
                    }
                }
                () = &mut signal => {}
            }
        }
        cluster.stop().await;
        exit
    })
}

/// One `Name: value` line per address, for people and scripts.
/// Runs the demo framework against the master at `master`: `tasks` command tasks, each
/// printing a greeting into its sandbox's stdout; prints every status update and a summary.
fn run_demo(master: &str, tasks: Option<usize>) -> ExitCode {
    let num_tasks = tasks.unwrap_or(0);
    println!("Demo: running {num_tasks} tasks through the test framework");
    let config = TestFrameworkConfig {
        num_tasks,
        task_resources: "cpus:0.1;mem:32".into(),
        executor: None,
        command: "echo Hello from task {} on $(hostname)".into(),
        verbose: true,
    };
    let framework = match TestFramework::new(config) {
        Ok(framework) => framework,
        Err(e) => {
            eprintln!("mesos-local: demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = framework.report();
    let info = TestFramework::framework_info("mesos-local demo");
    let status = match SchedulerDriver::new(framework, info, master) {
        Ok(driver) => driver.run(),
        Err(e) => {
            eprintln!("mesos-local: demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = report.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match report.aborted {
        None if status == Status::DriverStopped => {
            println!(
                "Demo: all {} tasks finished (each wrote its greeting to its sandbox's stdout)",
                report.finished.len()
            );
            ExitCode::SUCCESS
        }
        reason => {
            eprintln!(
                "mesos-local: demo failed ({}): {}",
                status.as_str_name(),
                reason.unwrap_or_default()
            );
            ExitCode::FAILURE
        }
    }
}

fn print_addresses(cluster: &LocalCluster) {
    let master = http(cluster.master_addr());
    println!("Master: {master}");
    println!("Scheduler API: {master}/api/v1/scheduler");
    println!("Operator API: {master}/api/v1");
    println!("State: {master}/master/state");
    for (index, addr) in cluster.agent_addrs().into_iter().enumerate() {
        println!("Agent {index}: {}", http(addr));
    }
    println!("Work directory: {}", cluster.work_dir().display());
}

fn http(addr: SocketAddr) -> String {
    format!("http://{addr}")
}
