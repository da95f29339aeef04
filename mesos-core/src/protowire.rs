//! Reading the protobuf wire format field by field, for the code that walks encoded
//! messages without decoding them (the required-field check, the JSON writer).

/// One field occurrence's value, by wire type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Payload<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 5.
    Fixed32(u32),
    /// Wire type 2: a string, bytes, a message or a packed list.
    Delimited(&'a [u8]),
}

/// Reads the next field of a message: its number and value. `None` at the end of the
/// bytes, or where they stop parsing (groups, which Mesos never uses, included).
pub(crate) fn next_field<'a>(bytes: &mut &'a [u8]) -> Option<(u64, Payload<'a>)> {
    let key = read_varint(bytes)?;
    let payload = match key & 7 {
        0 => Payload::Varint(read_varint(bytes)?),
        1 => Payload::Fixed64(u64::from_le_bytes(take_array(bytes)?)),
        5 => Payload::Fixed32(u32::from_le_bytes(take_array(bytes)?)),
        2 => {
            let len = usize::try_from(read_varint(bytes)?).ok()?;
            Payload::Delimited(take(bytes, len)?)
        }
        _ => return None,
    };
    Some((key >> 3, payload))
}

/// Reads a base-128 varint.
pub(crate) fn read_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(value);
        }
    }
    None
}

/// Takes the next `count` bytes.
pub(crate) fn take<'a>(bytes: &mut &'a [u8], count: usize) -> Option<&'a [u8]> {
    let (head, rest) = bytes.split_at_checked(count)?;
    *bytes = rest;
    Some(head)
}

/// Takes the next `N` bytes as an array (a little-endian fixed-width number).
pub(crate) fn take_array<const N: usize>(bytes: &mut &[u8]) -> Option<[u8; N]> {
    take(bytes, N).and_then(|head| head.try_into().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_wire_type() {
        let bytes = [
            0x08, 0x96, 0x01, // 1: varint 150
            0x11, 1, 0, 0, 0, 0, 0, 0, 0, // 2: fixed64 1
            0x1d, 2, 0, 0, 0, // 3: fixed32 2
            0x22, 0x02, b'h', b'i', // 4: "hi"
        ];
        let mut rest = &bytes[..];
        let fields: Vec<_> = std::iter::from_fn(|| next_field(&mut rest)).collect();
        assert_eq!(
            fields,
            [
                (1, Payload::Varint(150)),
                (2, Payload::Fixed64(1)),
                (3, Payload::Fixed32(2)),
                (4, Payload::Delimited(b"hi")),
            ]
        );
    }

    #[test]
    fn stops_at_truncation() {
        let mut rest = &[0x22, 0x05, b'h'][..];
        assert_eq!(next_field(&mut rest), None);
        let mut rest = &[0x08, 0xff][..];
        assert_eq!(next_field(&mut rest), None);
    }
}
