//! The typed errors of the resources module: invalid values, roles, resources and text.
//!
//! Each layer has its own error so a caller can tell a bad role from a bad number from a
//! malformed `--resources` flag; the outer ones wrap the inner ones as their `source`.

use std::fmt;

use super::value::ValueType;
use crate::json::JsonError;

/// Why a value (scalar, range or set) is not acceptable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    /// A scalar is NaN or infinite.
    #[error("scalar {0} is not a finite number")]
    NotFinite(f64),
    /// A resource scalar is below zero.
    #[error("scalar {0} is negative")]
    Negative(f64),
    /// A scalar is non-zero but rounds to zero at three decimals, e.g. `0.0001`.
    #[error("scalar {0} is not zero but rounds to zero at three decimal places")]
    RoundsToZero(f64),
    /// A scalar is too large for the fixed-point representation (|v| * 1000 must fit in i64).
    #[error("scalar {0} is too large")]
    TooLarge(f64),
    /// A range ends before it begins.
    #[error("range [{begin}-{end}] ends before it begins")]
    InvertedRange {
        /// First value of the range.
        begin: u64,
        /// Last value of the range.
        end: u64,
    },
    /// Two ranges of one value overlap.
    #[error("ranges [{0}] and [{1}] overlap")]
    OverlappingRanges(String, String),
    /// A set holds the same item twice.
    #[error("set item '{0}' appears more than once")]
    DuplicateSetItem(String),
}

/// Why a role name is not a valid Mesos role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    /// The role is the empty string.
    #[error("role name is empty")]
    Empty,
    /// The role begins with `/`.
    #[error("role '{0}' starts with '/'")]
    LeadingSlash(String),
    /// The role ends with `/`.
    #[error("role '{0}' ends with '/'")]
    TrailingSlash(String),
    /// The role has an empty path component (`a//b`).
    #[error("role '{0}' has an empty path component")]
    EmptyComponent(String),
    /// A path component is `.` or `..`.
    #[error("role '{role}' has '{component}' as a path component")]
    DotComponent {
        /// The whole role.
        role: String,
        /// The offending component, `.` or `..`.
        component: String,
    },
    /// `*` appears as a path component of a longer role (`*` alone is the unreserved role).
    #[error("role '{0}' has '*' as a path component")]
    StarComponent(String),
    /// A path component starts with `-`.
    #[error("role '{role}': component '{component}' starts with '-'")]
    LeadingDash {
        /// The whole role.
        role: String,
        /// The offending component.
        component: String,
    },
    /// A path component contains whitespace or DEL.
    #[error("role '{role}': component '{component}' contains whitespace or a control character")]
    InvalidCharacter {
        /// The whole role.
        role: String,
        /// The offending component.
        component: String,
    },
}

/// Why a resource (or an operation on one) is invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResourceError {
    /// The resource has no name.
    #[error("resource name is empty")]
    EmptyName,
    /// The `type` field holds a number that is not a `Value.Type`.
    #[error("resource '{name}': unknown value type {value}")]
    UnknownType {
        /// Resource name.
        name: String,
        /// The raw enum number.
        value: i32,
    },
    /// The resource is of type TEXT, which resources do not support.
    #[error("resource '{0}': TEXT values are not supported for resources")]
    TextNotSupported(String),
    /// The value field set does not match the declared type (or more than one is set).
    #[error("resource '{name}': type is {declared} but the value fields set do not match it")]
    ValueFieldMismatch {
        /// Resource name.
        name: String,
        /// The declared type.
        declared: ValueType,
    },
    /// The value itself is invalid.
    #[error("resource '{name}': {source}")]
    Value {
        /// Resource name.
        name: String,
        /// What is wrong with the value.
        #[source]
        source: ValueError,
    },
    /// `disk` info is set on a resource that is not named `disk`.
    #[error("DiskInfo is only allowed on 'disk' resources, not on '{0}'")]
    DiskInfoOnNonDisk(String),
    /// A disk source has type UNKNOWN (or an unknown number).
    #[error("disk source type {0} is not supported")]
    UnknownDiskSource(i32),
    /// A BLOCK or RAW disk source sets `path` or `mount`.
    #[error("a {kind} disk source must not set '{field}'")]
    DiskSourceField {
        /// The source type (BLOCK or RAW).
        kind: &'static str,
        /// The offending field (`path` or `mount`).
        field: &'static str,
    },
    /// A role name is invalid.
    #[error(transparent)]
    Role(#[from] RoleError),
    /// The legacy `reservation` field sets `type`.
    #[error("'Resource.reservation' must not set 'type'")]
    LegacyReservationType,
    /// The legacy `reservation` field sets `role`.
    #[error("'Resource.reservation' must not set 'role'")]
    LegacyReservationRole,
    /// The legacy format dynamically reserves for role `*`.
    #[error("role '*' cannot be dynamically reserved")]
    StarDynamicallyReserved,
    /// A reservation in the stack has no `type`.
    #[error("reservation for role '{0}' has no type")]
    ReservationTypeMissing(String),
    /// A reservation in the stack has type UNKNOWN (or an unknown number).
    #[error("reservation for role '{role}' has unsupported type {value}")]
    ReservationTypeUnknown {
        /// The role of the reservation.
        role: String,
        /// The raw enum number.
        value: i32,
    },
    /// A reservation in the stack has no `role`.
    #[error("reservation has no role")]
    ReservationRoleMissing,
    /// A reservation is for role `*`.
    #[error("role '*' cannot be reserved")]
    StarReserved,
    /// A refined reservation (not the first in the stack) is STATIC.
    #[error("refined reservation for role '{0}' cannot be STATIC")]
    RefinedStatic(String),
    /// A reservation is not for a strict sub-role of the one below it.
    #[error("reservation for role '{role}' is not a refinement of '{ancestor}'")]
    NotARefinement {
        /// The refining role.
        role: String,
        /// The role it should refine.
        ancestor: String,
    },
    /// Both formats are present and disagree on the role.
    #[error("'Resource.role' '{legacy}' does not match the reservation role '{role}'")]
    LegacyRoleMismatch {
        /// `Resource.role`.
        legacy: String,
        /// The role in `Resource.reservations`.
        role: String,
    },
    /// Both formats are present and disagree on the reservation.
    #[error("'Resource.role'/'Resource.reservation' disagree with 'Resource.reservations': {0}")]
    LegacyReservationMismatch(&'static str),
    /// Legacy fields are set along with a refined (deeper than one) stack.
    #[error(
        "'Resource.role' and 'Resource.reservation' must not be set with refined reservations"
    )]
    LegacyWithRefinedStack,
    /// `shared` is set on something that is not a persistent volume.
    #[error("resource '{0}' cannot be shared: only persistent volumes can be shared")]
    SharedNotVolume(String),
    /// `allocation_info` is set without a role.
    #[error("'Resource.allocation_info' has no role")]
    AllocationWithoutRole,
    /// A resource with refined reservations cannot be written in the pre-refinement format.
    #[error("resource '{name}' has {depth} reservations and cannot be written without RESERVATION_REFINEMENT")]
    RefinedForLegacyFormat {
        /// Resource name.
        name: String,
        /// Depth of its reservation stack.
        depth: usize,
    },
    /// `pop_reservation` on a resource that has no reservation.
    #[error("resource '{0}' has no reservation to pop")]
    NothingToPop(String),
    /// Resources given on the command line (agent `--resources`) must not be persistent volumes.
    #[error("persistent volumes cannot be specified in --resources")]
    CommandLineVolume,
    /// Resources given on the command line must not be revocable.
    #[error("revocable resources cannot be specified in --resources")]
    CommandLineRevocable,
    /// Resources given on the command line must not be dynamically reserved.
    #[error("dynamic reservations cannot be specified in --resources")]
    CommandLineDynamic,
    /// The same name is used with two value types on the command line.
    #[error("resource '{name}' is given as both {first} and {second}")]
    ConflictingTypes {
        /// Resource name.
        name: String,
        /// The type seen first.
        first: ValueType,
        /// The conflicting type.
        second: ValueType,
    },
}

/// What was being parsed when a [`ParseError`] happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// An entry of the agent `--resources` flag (text or JSON form).
    Resource,
    /// An entry of the agent `--attributes` flag.
    Attribute,
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Subject::Resource => "resource",
            Subject::Attribute => "attribute",
        })
    }
}

/// A parse failure, pointing at the offending token of the input.
///
/// `offset` is the 0-based byte offset of `token` in the input text; for the JSON form the
/// token is the array element (or, for a syntax error, the text at the error position).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid {subject} '{token}' at byte {offset}: {kind}")]
pub struct ParseError {
    /// What kind of entry was being parsed.
    pub subject: Subject,
    /// The offending token, as it appears in the input (trimmed).
    pub token: String,
    /// 0-based byte offset of `token` in the input.
    pub offset: usize,
    /// What is wrong with it.
    #[source]
    pub kind: ParseErrorKind,
}

/// What is wrong with a token of `--resources` or `--attributes` text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseErrorKind {
    /// No `:` between name and value.
    #[error("missing ':' between name and value")]
    MissingColon,
    /// More than one `:` in a resource entry.
    #[error("extra ':' in entry")]
    ExtraColon,
    /// The name before `:` (or before `(`) is empty.
    #[error("empty name")]
    EmptyName,
    /// The name contains a character that is not allowed in it.
    #[error("character '{0}' is not allowed in a name")]
    InvalidNameCharacter(char),
    /// A `(` with no `)` after it.
    #[error("missing ')' after role")]
    MissingCloseParen,
    /// Something follows the `)` that closes the role.
    #[error("unexpected text '{0}' after ')'")]
    TextAfterRole(String),
    /// The role in parentheses is invalid.
    #[error("invalid role: {0}")]
    Role(#[source] RoleError),
    /// The default role (used because no role was given) is invalid.
    #[error("invalid default role: {0}")]
    DefaultRole(#[source] RoleError),
    /// The value after `:` is empty.
    #[error("empty value")]
    EmptyValue,
    /// A `[` with no matching `]`.
    #[error("missing ']' after ranges")]
    UnterminatedRanges,
    /// A `{` with no matching `}`.
    #[error("missing '}}' after set")]
    UnterminatedSet,
    /// Text follows the closing bracket of a value.
    #[error("unexpected text '{0}' after value")]
    TextAfterValue(String),
    /// A range is not of the form `begin-end`.
    #[error("range '{0}' is not of the form 'begin-end'")]
    MalformedRange(String),
    /// A range bound is not a non-negative integer.
    #[error("range bound '{0}' is not a non-negative integer")]
    InvalidRangeBound(String),
    /// An empty item between commas of a set.
    #[error("empty set item")]
    EmptySetItem,
    /// A set item contains a character that is not allowed in it.
    #[error("character '{0}' is not allowed in a set item")]
    InvalidSetCharacter(char),
    /// The value is neither a number, `[ranges]` nor `{set}`; resources have no TEXT type.
    #[error("'{0}' is not a number, '[ranges]' or '{{set}}'")]
    NotAResourceValue(String),
    /// Attributes cannot be sets.
    #[error("set values are not supported for attributes")]
    SetAttribute,
    /// A text attribute value contains a bracket.
    #[error("text value '{0}' contains a bracket")]
    BracketInText(String),
    /// The value is syntactically fine but invalid (negative, overlapping, duplicated...).
    #[error(transparent)]
    Value(ValueError),
    /// The parsed resource is invalid.
    #[error(transparent)]
    Resource(ResourceError),
    /// The input starts with `[` but is not valid JSON.
    #[error("malformed JSON (line {line}, column {column}): {reason}")]
    JsonSyntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON parser reported.
        reason: String,
    },
    /// A JSON array element could not be read as a `mesos.v1.Resource`.
    #[error("element {index} of the JSON array: {source}")]
    Json {
        /// 0-based index of the element in the array.
        index: usize,
        /// Why it could not be read.
        #[source]
        source: JsonError,
    },
}
