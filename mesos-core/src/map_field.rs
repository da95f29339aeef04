//! The rule for a `map<K, V>` field in Mesos' schema, whatever describes the field.
//!
//! Our schemas declare such a field as its repeated `<Name>Entry { key = 1; value = 2; }`
//! messages (see `scripts/gen_proto.py` for why), exactly as protoc compiles a map; the
//! JSON mapping writes and reads it as an object. The rule is shared by the run-time
//! descriptors (`schema::is_map_field`) and the build script, which compiles the wire
//! tables (`wire_schema`) from the descriptor set.

/// Whether a field is a map field. `repeated`: the field is; `nested`: its entry type is
/// declared inside the field's message; `entry_name`: the entry type's short name;
/// `entry_fields`: how many fields the entry has; `entry_has(number, name)`: whether it
/// has that field.
pub(crate) fn is_map_shape(
    repeated: bool,
    nested: bool,
    entry_name: &str,
    entry_fields: usize,
    entry_has: impl Fn(u32, &str) -> bool,
) -> bool {
    repeated
        && nested
        && entry_name.ends_with("Entry")
        && entry_fields == 2
        && entry_has(1, "key")
        && entry_has(2, "value")
}
