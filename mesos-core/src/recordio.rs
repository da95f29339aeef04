//! RecordIO, the framing of Mesos' streaming responses (`application/recordio`).
//!
//! Each record is its length in bytes as ASCII decimal, a line feed, then the bytes:
//! `20\n{"type":"HEARTBEAT"}`. The [`Decoder`] takes a byte stream in chunks of any size
//! (a record may be split anywhere, several may arrive at once) and bounds the size of a
//! record, so a hostile or broken peer cannot make it buffer without limit.

use bytes::{Buf, Bytes, BytesMut};

/// The largest record a [`Decoder`] accepts unless told otherwise: 64 MiB.
pub const DEFAULT_MAX_RECORD_SIZE: usize = 64 * 1024 * 1024;

/// Why a RecordIO stream could not be decoded. Positions are byte offsets from the start
/// of the stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordIoError {
    /// A length prefix holds something other than decimal digits.
    #[error("malformed RecordIO length prefix at byte {offset}: unexpected byte {byte:#04x} ({shown})", shown = show_byte(*.byte))]
    InvalidLengthByte {
        /// Offset of the offending byte.
        offset: u64,
        /// The offending byte.
        byte: u8,
    },
    /// A line feed came where a length prefix should have started.
    #[error("malformed RecordIO length prefix at byte {offset}: empty length")]
    EmptyLength {
        /// Offset of the line feed.
        offset: u64,
    },
    /// A record announces more bytes than the decoder accepts.
    #[error("RecordIO record at byte {offset} is {length} bytes, over the limit of {max} bytes")]
    RecordTooLarge {
        /// Offset of the record's length prefix.
        offset: u64,
        /// The announced length (saturated at `u64::MAX`).
        length: u64,
        /// The decoder's limit.
        max: usize,
    },
    /// The stream ended inside a record.
    #[error("RecordIO stream ended inside the record at byte {offset}: {detail}")]
    Truncated {
        /// Offset of the unfinished record's length prefix.
        offset: u64,
        /// What was missing.
        detail: String,
    },
    /// An earlier error left the stream unreadable.
    #[error("RecordIO stream already failed: {0}")]
    Failed(Box<RecordIoError>),
}

fn show_byte(byte: u8) -> String {
    if byte.is_ascii_graphic() || byte == b' ' {
        format!("'{}'", byte as char)
    } else {
        "not printable".to_string()
    }
}

/// Frames one record: its length, a line feed, the bytes.
pub fn encode(record: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.len() + 12);
    encode_into(record, &mut out);
    out
}

/// Frames one record onto the end of `out`.
pub fn encode_into(record: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(record.len().to_string().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(record);
}

/// Where the decoder is inside the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Reading a length prefix: the digits seen so far and their value.
    Length { digits: usize, value: u64 },
    /// Reading the bytes of a record of the given length.
    Record { length: usize },
    /// An error was returned; every later call returns it again.
    Failed(RecordIoError),
}

/// An incremental RecordIO decoder: [`push`](Decoder::push) chunks in, take records out
/// with [`next_record`](Decoder::next_record).
#[derive(Debug)]
pub struct Decoder {
    buffer: BytesMut,
    state: State,
    max_record_size: usize,
    /// Stream offset of `buffer[0]`.
    consumed: u64,
    /// Stream offset where the current record's length prefix began.
    record_start: u64,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_MAX_RECORD_SIZE)
    }
}

impl Decoder {
    /// A decoder that rejects records longer than `max_record_size` bytes.
    pub fn new(max_record_size: usize) -> Decoder {
        Decoder {
            buffer: BytesMut::new(),
            state: State::Length {
                digits: 0,
                value: 0,
            },
            max_record_size,
            consumed: 0,
            record_start: 0,
        }
    }

    /// Appends the next chunk of the stream.
    pub fn push(&mut self, chunk: &[u8]) {
        if !matches!(self.state, State::Failed(_)) {
            self.buffer.extend_from_slice(chunk);
        }
    }

    /// The next complete record, `Ok(None)` when more bytes are needed, or the error that
    /// makes the stream unreadable (returned again on every later call).
    pub fn next_record(&mut self) -> Result<Option<Bytes>, RecordIoError> {
        loop {
            match self.state.clone() {
                State::Failed(error) => return Err(RecordIoError::Failed(Box::new(error))),
                State::Length { digits, value } => {
                    let Some(&byte) = self.buffer.get(digits) else {
                        return Ok(None);
                    };
                    let offset = self.consumed + digits as u64;
                    if byte == b'\n' {
                        if digits == 0 {
                            return Err(self.fail(RecordIoError::EmptyLength { offset }));
                        }
                        self.advance(digits + 1);
                        // `value` was checked against the limit digit by digit.
                        self.state = State::Record {
                            length: value as usize,
                        };
                        continue;
                    }
                    if !byte.is_ascii_digit() {
                        return Err(self.fail(RecordIoError::InvalidLengthByte { offset, byte }));
                    }
                    let value = value
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(u64::from(byte - b'0')))
                        .unwrap_or(u64::MAX);
                    if value == u64::MAX || value > self.max_record_size as u64 {
                        let error = RecordIoError::RecordTooLarge {
                            offset: self.record_start,
                            length: value,
                            max: self.max_record_size,
                        };
                        return Err(self.fail(error));
                    }
                    self.state = State::Length {
                        digits: digits + 1,
                        value,
                    };
                }
                State::Record { length } => {
                    if self.buffer.len() < length {
                        return Ok(None);
                    }
                    let record = self.buffer.split_to(length).freeze();
                    self.consumed += length as u64;
                    self.record_start = self.consumed;
                    self.state = State::Length {
                        digits: 0,
                        value: 0,
                    };
                    return Ok(Some(record));
                }
            }
        }
    }

    /// Pushes `chunk` and returns every record it completes.
    pub fn decode(&mut self, chunk: &[u8]) -> Result<Vec<Bytes>, RecordIoError> {
        self.push(chunk);
        let mut records = Vec::new();
        while let Some(record) = self.next_record()? {
            records.push(record);
        }
        Ok(records)
    }

    /// Declares the end of the stream: an error if it stopped inside a record.
    pub fn finish(&self) -> Result<(), RecordIoError> {
        match &self.state {
            State::Failed(error) => Err(RecordIoError::Failed(Box::new(error.clone()))),
            State::Length { digits: 0, .. } if self.buffer.is_empty() => Ok(()),
            State::Length { .. } => Err(RecordIoError::Truncated {
                offset: self.record_start,
                detail: format!(
                    "{} bytes of an unterminated length prefix",
                    self.buffer.len()
                ),
            }),
            State::Record { length } => Err(RecordIoError::Truncated {
                offset: self.record_start,
                detail: format!("expected {length} bytes, got {}", self.buffer.len()),
            }),
        }
    }

    fn advance(&mut self, count: usize) {
        self.buffer.advance(count);
        self.consumed += count as u64;
    }

    fn fail(&mut self, error: RecordIoError) -> RecordIoError {
        self.state = State::Failed(error.clone());
        self.buffer.clear();
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_as_mesos_does() {
        assert_eq!(
            encode(br#"{"type":"HEARTBEAT"}"#),
            b"20\n{\"type\":\"HEARTBEAT\"}".to_vec()
        );
        assert_eq!(encode(b""), b"0\n".to_vec());
    }

    #[test]
    fn decodes_records_split_anywhere() {
        let mut stream = Vec::new();
        for record in [&b"hello"[..], b"", b"a much longer record\nwith a newline"] {
            encode_into(record, &mut stream);
        }
        for chunk_size in 1..stream.len() {
            let mut decoder = Decoder::default();
            let mut records = Vec::new();
            for chunk in stream.chunks(chunk_size) {
                records.extend(decoder.decode(chunk).expect("valid stream"));
            }
            decoder.finish().expect("complete stream");
            assert_eq!(
                records,
                vec![
                    Bytes::from_static(b"hello"),
                    Bytes::new(),
                    Bytes::from_static(b"a much longer record\nwith a newline"),
                ]
            );
        }
    }

    #[test]
    fn bad_length_bytes_are_located() {
        let mut decoder = Decoder::default();
        let err = decoder.decode(b"2\nok1x\nabc").expect_err("bad prefix");
        assert_eq!(
            err,
            RecordIoError::InvalidLengthByte {
                offset: 5,
                byte: b'x'
            }
        );
        assert_eq!(
            err.to_string(),
            "malformed RecordIO length prefix at byte 5: unexpected byte 0x78 ('x')"
        );
        // The stream stays failed.
        assert!(matches!(
            decoder.decode(b"1\na"),
            Err(RecordIoError::Failed(_))
        ));
    }

    #[test]
    fn empty_length_is_an_error() {
        let err = Decoder::default().decode(b"\n").expect_err("empty");
        assert_eq!(err, RecordIoError::EmptyLength { offset: 0 });
    }

    #[test]
    fn oversized_records_are_refused_before_buffering() {
        let mut decoder = Decoder::new(100);
        let err = decoder.decode(b"3\nabc1000").expect_err("too large");
        assert_eq!(
            err,
            RecordIoError::RecordTooLarge {
                offset: 5,
                length: 1000,
                max: 100
            }
        );
        let err = Decoder::new(usize::MAX)
            .decode(b"99999999999999999999999999\n")
            .expect_err("overflow");
        assert!(matches!(
            err,
            RecordIoError::RecordTooLarge {
                length: u64::MAX,
                ..
            }
        ));
    }

    #[test]
    fn truncated_streams_are_reported_at_finish() {
        let mut decoder = Decoder::default();
        assert!(decoder.decode(b"10\nabc").expect("partial").is_empty());
        assert_eq!(
            decoder.finish().expect_err("truncated").to_string(),
            "RecordIO stream ended inside the record at byte 0: expected 10 bytes, got 3"
        );
        let mut decoder = Decoder::default();
        decoder.decode(b"1\na12").expect("partial prefix");
        assert!(decoder.finish().is_err());
    }
}
