//! Framing of records in the project's durable logs (the master's registry, the agent's
//! status-update checkpoints).
//!
//! A record is a 12-byte header and a payload:
//! `length: u32 LE | crc32(length bytes): u32 LE | crc32(payload): u32 LE | payload`.
//! The header's own checksum tells a damaged length from a record cut short, so a bad
//! length in the middle of the log is reported, never taken for a torn tail.

use crc32fast::hash as crc32;

/// The size of a record header.
pub(crate) const HEADER_LEN: usize = 12;

/// The frame of `payload`: header then payload, to be written with one `write`.
pub(crate) fn encode(payload: &[u8]) -> Vec<u8> {
    let length = u32::try_from(payload.len()).expect("registry record over 4 GiB");
    let length_bytes = length.to_le_bytes();
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&length_bytes);
    out.extend_from_slice(&crc32(&length_bytes).to_le_bytes());
    out.extend_from_slice(&crc32(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// What is at the start of a byte slice.
#[derive(Debug, PartialEq)]
pub(crate) enum Frame<'a> {
    /// A whole, intact record: its payload and total length (header included).
    Record(&'a [u8], usize),
    /// The bytes end inside a record, or the record's payload checksum fails and the
    /// record runs exactly to the end of the bytes (a write cut short by a crash), or the
    /// rest is all zeros (space allocated but never written).
    Torn(String),
    /// A damaged record with more bytes after it.
    Corrupt(String),
}

/// Reads the record at the start of `bytes` (which runs to the end of the file).
pub(crate) fn decode(bytes: &[u8]) -> Frame<'_> {
    if bytes.len() < HEADER_LEN {
        return Frame::Torn(format!(
            "{} bytes left, shorter than a record header",
            bytes.len()
        ));
    }
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let length = word(0);
    if crc32(&bytes[0..4]) != word(4) {
        if bytes.iter().all(|b| *b == 0) {
            return Frame::Torn("the rest of the file is zeros".into());
        }
        return Frame::Corrupt("record header checksum mismatch".into());
    }
    let end = HEADER_LEN + length as usize;
    if bytes.len() < end {
        return Frame::Torn(format!(
            "record of {length} bytes, only {} present",
            bytes.len() - HEADER_LEN
        ));
    }
    let payload = &bytes[HEADER_LEN..end];
    if crc32(payload) != word(8) {
        let reason = "record payload checksum mismatch".to_string();
        return if end == bytes.len() {
            Frame::Torn(reason)
        } else {
            Frame::Corrupt(reason)
        };
    }
    Frame::Record(payload, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut bytes = encode(b"hello");
        bytes.extend(encode(b""));
        let Frame::Record(payload, used) = decode(&bytes) else {
            panic!("not a record")
        };
        assert_eq!((payload, used), (&b"hello"[..], HEADER_LEN + 5));
        assert_eq!(decode(&bytes[used..]), Frame::Record(&b""[..], HEADER_LEN));
    }

    #[test]
    fn every_prefix_is_torn() {
        let bytes = encode(b"some payload");
        for cut in 0..bytes.len() {
            assert!(
                matches!(decode(&bytes[..cut]), Frame::Torn(_)),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn damage_followed_by_more_is_corrupt() {
        let mut bytes = encode(b"some payload");
        let next = encode(b"next");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(matches!(decode(&bytes), Frame::Torn(_)));
        bytes.extend(&next);
        assert!(matches!(decode(&bytes), Frame::Corrupt(_)));
        let mut bad_length = encode(b"some payload");
        bad_length[0] ^= 0x40;
        bad_length.extend(&next);
        assert!(matches!(decode(&bad_length), Frame::Corrupt(_)));
        assert!(matches!(decode(&[0u8; 40]), Frame::Torn(_)));
    }
}
