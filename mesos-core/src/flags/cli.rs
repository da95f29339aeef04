//! The command-line machinery every Mesos daemon's flags share: clap plus Mesos' rules.
//!
//! A daemon describes its flags as a clap [`Parser`] and reads them with [`parse`], which
//! adds what Mesos' flags do and clap does not:
//!
//! - every flag can also come from the environment variable `MESOS_<NAME IN UPPER CASE>`
//!   (aliases too); a flag on the command line wins over the environment, and a bad
//!   environment value is reported with the variable's name;
//! - boolean flags (declared with `num_args = 0..=1`) take `--name`, `--name=true|false`
//!   and `--no-name`;
//! - `--help` and `--version` are long-only and answered as [`FlagsError::Help`] and
//!   [`FlagsError::Version`] for the caller to print;
//! - every other clap failure becomes [`FlagsError::Invalid`] with clap's one-line reason.

use std::ffi::OsString;
use std::fmt;

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Command, Parser, ValueEnum};

/// Prefix of the environment variables that carry flags.
const ENV_PREFIX: &str = "MESOS_";

/// Why a daemon's flags were not produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagsError {
    /// `--help` was given: the help text, for the caller to print before exiting with
    /// success.
    #[error("{0}")]
    Help(String),
    /// `--version` was given: the version line, for the caller to print before exiting
    /// with success.
    #[error("{0}")]
    Version(String),
    /// A flag is unknown, malformed, out of range or inconsistent with another flag; the
    /// message names the flag (or the environment variable it came from).
    #[error("{0}")]
    Invalid(String),
}

/// Reads the flags `R` describes from `args` (starting with the program name, as
/// `std::env::args_os()` does; the command's name stands in when `args` is empty) and from
/// the environment `env` describes: `env("MESOS_PORT")` is the value of `MESOS_PORT`, if
/// set.
pub fn parse<R, I, T, E>(args: I, env: E) -> Result<R, FlagsError>
where
    R: Parser,
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
    E: Fn(&str) -> Option<String>,
{
    let command = command(R::command());
    let mut args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    if args.is_empty() {
        args.push(OsString::from(command.get_name()));
    }
    let program = args.remove(0);
    let args = rewrite_negations(&command, args);

    let given = command
        .clone()
        .try_get_matches_from(std::iter::once(program.clone()).chain(args.iter().cloned()))
        .map_err(|e| flags_error(e, None))?;
    let from_env = environment_flags(&command, &given, &program, env)?;

    let all = std::iter::once(program)
        .chain(from_env)
        .chain(args)
        .collect::<Vec<_>>();
    let matches = command
        .try_get_matches_from(all)
        .map_err(|e| flags_error(e, None))?;
    R::from_arg_matches(&matches).map_err(|e| flags_error(e, None))
}

/// The `--name=value` arguments the environment supplies for every flag not given on the
/// command line, each checked on its own so a bad value names its variable.
fn environment_flags<E>(
    command: &Command,
    given: &ArgMatches,
    program: &OsString,
    env: E,
) -> Result<Vec<OsString>, FlagsError>
where
    E: Fn(&str) -> Option<String>,
{
    let mut from_env = Vec::new();
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        if !arg.get_action().takes_values()
            || given.value_source(id) == Some(ValueSource::CommandLine)
        {
            continue;
        }
        let names = arg.get_long().into_iter().chain(
            arg.get_all_aliases()
                .into_iter()
                .flatten()
                .collect::<Vec<_>>(),
        );
        let found = names.into_iter().find_map(|name| {
            let variable = format!("{ENV_PREFIX}{}", name.to_uppercase());
            env(&variable).map(|value| (variable, name, value))
        });
        if let Some((variable, name, value)) = found {
            let flag = OsString::from(format!("--{name}={value}"));
            command
                .clone()
                .try_get_matches_from([program.clone(), flag.clone()])
                .map_err(|e| flags_error(e, Some(&variable)))?;
            from_env.push(flag);
        }
    }
    Ok(from_env)
}

/// The clap command of a daemon: its flags plus long-only `--help` and `--version`, with
/// `VALUE` (or `true|false`) as every value's name.
fn command(flags: Command) -> Command {
    flags
        .version(env!("CARGO_PKG_VERSION"))
        .arg(
            clap::Arg::new("help")
                .long("help")
                .action(ArgAction::Help)
                .help("Print this help message and exit."),
        )
        .arg(
            clap::Arg::new("version")
                .long("version")
                .action(ArgAction::Version)
                .help("Print the version and exit."),
        )
        .mut_args(|arg| {
            if is_boolean(&arg) {
                arg.value_name("true|false").hide_possible_values(true)
            } else if arg.get_action().takes_values() {
                arg.value_name("VALUE").hide_possible_values(true)
            } else {
                arg
            }
        })
}

/// Whether the flag is a Mesos-style boolean: `--name` alone means true.
fn is_boolean(arg: &clap::Arg) -> bool {
    arg.get_num_args()
        .is_some_and(|range| range.min_values() == 0 && range.max_values() == 1)
}

/// The version line `--version` answers.
fn version_text() -> String {
    format!(
        "mesos {} (mesos-rs {})",
        crate::MESOS_WIRE_VERSION,
        env!("CARGO_PKG_VERSION")
    )
}

/// Rewrites `--no-NAME` of a boolean flag as `--NAME=false`.
fn rewrite_negations(command: &Command, args: Vec<OsString>) -> Vec<OsString> {
    args.into_iter()
        .map(|arg| {
            let negated = arg.to_str().and_then(|text| text.strip_prefix("--no-"));
            let boolean = negated.and_then(|name| {
                command
                    .get_arguments()
                    .filter(|a| is_boolean(a))
                    .find(|a| a.get_long() == Some(name))
            });
            match (negated, boolean) {
                (Some(name), Some(_)) => OsString::from(format!("--{name}=false")),
                _ => arg,
            }
        })
        .collect()
}

/// The reason in a clap error: its first paragraph, without the `error: ` prefix.
fn reason(error: &clap::Error) -> String {
    let text = error.to_string();
    let first = text.split("\n\n").next().unwrap_or_default().trim();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// Turns a clap error into a [`FlagsError`]; `origin` says where the value came from when
/// it was not the command line.
fn flags_error(error: clap::Error, origin: Option<&str>) -> FlagsError {
    match error.kind() {
        clap::error::ErrorKind::DisplayHelp => FlagsError::Help(error.to_string()),
        clap::error::ErrorKind::DisplayVersion => FlagsError::Version(version_text()),
        _ => FlagsError::Invalid(match origin {
            Some(variable) => format!("environment variable {variable}: {}", reason(&error)),
            None => reason(&error),
        }),
    }
}

/// Writes a flag's enum value as it is given on the command line, for `Display` impls of
/// flag value enums.
pub fn write_value_name(value: impl ValueEnum, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match value.to_possible_value() {
        Some(possible) => f.write_str(possible.get_name()),
        None => Err(fmt::Error),
    }
}
