//! Cutting a byte stream into Server-Sent Events by the WHATWG rules ("Interpreting an event
//! stream", HTML Living Standard §9.2.6): lines end with CRLF, LF or CR; a blank line dispatches
//! the event; `data` lines are joined with LF; `:` starts a comment; a field without a colon has an
//! empty value; one space after the colon is dropped; a leading BOM is ignored; an event cut off
//! by the end of the stream is not dispatched.
//!
//! Every byte is looked at once, whatever the chunking: a large event arriving in many small
//! chunks costs its length, not its length times the chunk count.

/// One event as it came: its raw bytes (everything since the previous event, the blank line that
/// ends it included) and its data, if it has any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Event {
    pub raw: Vec<u8>,
    pub data: Option<String>,
}

/// Reads events out of the chunks of one stream.
#[derive(Debug, Default)]
pub(super) struct EventReader {
    /// Bytes of the event being read, from its first byte.
    buf: Vec<u8>,
    /// Where scanning resumes in `buf` (every byte before it has been looked at).
    scan: usize,
    /// Where the line being read starts in `buf`.
    line_start: usize,
    /// The event's data buffer (each `data` line's value and a LF).
    data: Vec<u8>,
    /// The last line ended with a CR at the end of a chunk: a LF that follows belongs to it.
    skip_lf: bool,
    /// A line was read already (a BOM is ignored only at the very start).
    started: bool,
}

impl EventReader {
    /// Takes the next bytes of the stream; appends every event they complete to `out`.
    pub(super) fn feed(&mut self, bytes: &[u8], out: &mut Vec<Event>) {
        self.buf.extend_from_slice(bytes);
        if self.skip_lf && self.scan < self.buf.len() {
            self.skip_lf = false;
            if self.buf[self.scan] == b'\n' {
                self.scan += 1;
                self.line_start = self.scan;
            }
        }
        // Bytes of `buf` already handed out in events.
        let mut consumed = 0;
        while let Some(p) = self.buf[self.scan..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
        {
            let end = self.scan + p;
            let mut next = end + 1;
            if self.buf[end] == b'\r' {
                match self.buf.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
            if let Some(data) = self.line(self.line_start, end) {
                out.push(Event {
                    raw: self.buf[consumed..next].to_vec(),
                    data,
                });
                consumed = next;
            }
            self.scan = next;
            self.line_start = next;
        }
        self.scan = self.buf.len();
        if consumed > 0 {
            self.buf.drain(..consumed);
            self.scan -= consumed;
            self.line_start -= consumed;
        }
    }

    /// Bytes held of the event being read.
    pub(super) fn pending_len(&self) -> usize {
        self.buf.len()
    }

    /// The raw bytes of the event being read (cut off by the end of the stream, or handed on
    /// unread); the reader starts over.
    pub(super) fn take_pending(&mut self) -> Vec<u8> {
        let started = self.started;
        let raw = std::mem::take(&mut self.buf);
        *self = EventReader {
            started,
            ..EventReader::default()
        };
        raw
    }

    /// Fail open: when the bytes a tap holds (`held`) and those of the event being read pass
    /// `limit`, both go to `out`, and the tap forwards every later byte as it comes (`true`).
    pub(super) fn spill(&mut self, held: &mut Vec<u8>, limit: usize, out: &mut Vec<u8>) -> bool {
        if held.len().saturating_add(self.pending_len()) <= limit {
            return false;
        }
        out.append(held);
        out.append(&mut self.take_pending());
        true
    }

    /// Reads the line `buf[start..end]`. `Some(data)` when it was blank, so the event is complete.
    fn line(&mut self, start: usize, end: usize) -> Option<Option<String>> {
        let mut line = &self.buf[start..end];
        if !self.started {
            self.started = true;
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.is_empty() {
            let mut data = std::mem::take(&mut self.data);
            if data.is_empty() {
                return Some(None);
            }
            data.pop(); // the LF after the last data line
            return Some(Some(match String::from_utf8(data) {
                Ok(text) => text,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            }));
        }
        if line[0] == b':' {
            return None; // a comment
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        if name == b"data" {
            self.data.extend_from_slice(value);
            self.data.push(b'\n');
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event's data and raw bytes.
    type Read = (Option<String>, Vec<u8>);

    /// Every event of `stream`, fed `size` bytes at a time, and the bytes left unread.
    fn read(stream: &[u8], size: usize) -> (Vec<Read>, Vec<u8>) {
        let mut reader = EventReader::default();
        let mut events = Vec::new();
        for piece in stream.chunks(size.max(1)) {
            reader.feed(piece, &mut events);
        }
        let tail = reader.take_pending();
        (events.into_iter().map(|e| (e.data, e.raw)).collect(), tail)
    }

    /// The data of every event of `stream`, the same however it is cut.
    fn data_of(stream: &str) -> Vec<Option<String>> {
        let data = |size| -> Vec<Option<String>> {
            let events = read(stream.as_bytes(), size).0;
            events.into_iter().map(|(data, _)| data).collect()
        };
        let whole = data(usize::MAX);
        for size in 1..=7 {
            assert_eq!(data(size), whole, "cut every {size} bytes");
        }
        whole
    }

    #[test]
    fn every_line_ending_ends_a_line() {
        let expected = vec![Some("a".to_string()), Some("b".to_string())];
        assert_eq!(data_of("data: a\n\ndata: b\n\n"), expected);
        assert_eq!(data_of("data: a\r\n\r\ndata: b\r\n\r\n"), expected);
        assert_eq!(data_of("data: a\r\rdata: b\r\r"), expected);
        assert_eq!(data_of("data: a\r\n\ndata: b\n\r\n"), expected);
        assert_eq!(data_of("data: a\r\n\rdata: b\r\r\n"), expected);
    }

    #[test]
    fn fields_follow_the_spec() {
        // The WHATWG examples: several data lines, the optional space, no colon, comments.
        assert_eq!(
            data_of("data: YHOO\ndata: +2\ndata: 10\n\n"),
            vec![Some("YHOO\n+2\n10".into())]
        );
        assert_eq!(
            data_of("data:test\n\ndata: test\n\ndata:  two\n\n"),
            vec![
                Some("test".into()),
                Some("test".into()),
                Some(" two".into())
            ]
        );
        assert_eq!(
            data_of("data\n\ndata\ndata\n\ndata:\n\n"),
            vec![Some("".into()), Some("\n".into()), Some("".into())]
        );
        assert_eq!(
            data_of(": comment\nevent: x\nid: 7\nretry: 10\n\n: only a comment\n\n"),
            vec![None, None]
        );
        assert_eq!(
            data_of("\u{FEFF}data: bom\n\ndata: \u{FEFF}kept\n\n"),
            vec![Some("bom".into()), Some("\u{FEFF}kept".into())]
        );
        assert_eq!(data_of("dat: x\ndata : y\n\n"), vec![None]);
    }

    #[test]
    fn raw_bytes_are_kept_and_a_cut_off_event_is_not_dispatched() {
        let stream = b": hi\r\ndata: a\r\n\r\ndata: b\n\ndata: c\n";
        for size in 1..=stream.len() {
            let (events, tail) = read(stream, size);
            let mut all: Vec<u8> = events.iter().flat_map(|(_, raw)| raw.clone()).collect();
            all.extend(&tail);
            assert_eq!(all, stream, "every byte comes back, in order");
            assert_eq!(events.len(), 2);
            // An event ends at its blank line's CR when a chunk ends there; the LF then leads the
            // next event's bytes (dispatching without waiting for the next chunk).
            assert!(events[0].1.starts_with(b": hi\r\ndata: a\r\n\r"));
            assert_eq!(tail, b"data: c\n", "not dispatched: no blank line");
        }
    }

    #[test]
    fn non_utf8_data_is_read_lossily() {
        assert_eq!(
            data_of("data: \u{e9}\n\n"),
            vec![Some("\u{e9}".to_string())]
        );
        let (events, _) = read(b"data: \xff\n\n", 1);
        assert_eq!(events[0].0.as_deref(), Some("\u{FFFD}"));
    }

    #[test]
    fn a_large_event_in_small_chunks_is_read_once() {
        // Quadratic before: each chunk rescanned everything held. 4 MiB in 64-byte chunks.
        let payload = "x".repeat(4 << 20);
        let stream = format!("data: {payload}\n\n");
        let mut reader = EventReader::default();
        let mut events = Vec::new();
        for piece in stream.as_bytes().chunks(64) {
            reader.feed(piece, &mut events);
        }
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data.as_deref(), Some(payload.as_str()));
        // Many small events in one large chunk: each handed out without moving the rest.
        let many = "data: 1\n\n".repeat(200_000);
        let mut events = Vec::new();
        EventReader::default().feed(many.as_bytes(), &mut events);
        assert_eq!(events.len(), 200_000);
    }
}
