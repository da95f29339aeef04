//! The Resources algebra of Mesos: values, reservations, arithmetic and parsing.
