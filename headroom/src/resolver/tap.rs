//! The one loop both stream taps run: cut the chunks into events ([`EventReader`]), hold them
//! while undecided, then pass the stream through, capture it, or give up and forward it raw. What
//! an event means is the protocol's ([`Stream`]): chat chunks ([`super::sse`]) or Responses events
//! ([`super::responses_sse`]).

use super::events::{Event, EventReader};
use super::filter::Removed;
use serde_json::Value;

/// Bytes held while undecided before the stream is passed through anyway (an error body, not SSE).
const MAX_HELD_BYTES: usize = 256 * 1024;

/// Where a tapped stream stands.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Nothing said yet: hold the events.
    #[default]
    Undecided,
    /// Not ours: every event goes to the agent as it comes, byte for byte, except our calls
    /// further on, which the protocol takes out.
    Passthrough,
    /// Not SSE as we know it (an error body, say), or too large to capture: every byte goes to the
    /// agent untouched.
    Raw,
    /// Ours: read every event, forward nothing.
    Capture,
}

/// How a stream ended.
pub(super) enum Tapped {
    /// Not ours: the bytes still to forward, and any retrieve calls taken out of the stream.
    Passthrough(Vec<u8>, Removed),
    /// Ours: the reply, assembled as the protocol's non-streamed reply.
    Captured(Value),
}

/// What one protocol makes of the events of its stream.
pub(super) trait Stream {
    /// Whether this event (its `data` as JSON) settles the stream: [`Mode::Undecided`],
    /// [`Mode::Capture`] or [`Mode::Passthrough`].
    fn decide(&self, event: &Value) -> Mode;
    /// Keeps what it needs of an event held while undecided or capturing.
    fn keep(&mut self, event: Option<Value>);
    /// Forgets what it kept: the held events went to the agent.
    fn forget(&mut self);
    /// The bytes to forward for one event of a passed-through stream.
    fn pass(&mut self, raw: Vec<u8>, event: Option<Value>) -> Vec<u8>;
    /// The reply a captured stream adds up to, if it came whole.
    fn reply(&mut self) -> Option<Value>;
    /// Our calls taken out of a passed-through stream.
    fn removed(self) -> Removed;
}

/// Reads one streamed reply, one whole event at a time.
#[derive(Debug)]
pub(super) struct Tap<S> {
    mode: Mode,
    reader: EventReader,
    /// Raw events read while undecided or capturing (what the agent gets if we give up).
    held: Vec<u8>,
    stream: S,
    /// Most bytes a captured stream may hold before it is passed through as it came.
    max_capture_bytes: usize,
}

impl<S: Stream> Tap<S> {
    /// A tap that passes a stream through as it came once capturing it would hold more than
    /// `max_capture_bytes`.
    pub(super) fn new(stream: S, max_capture_bytes: usize) -> Self {
        Tap {
            mode: Mode::Undecided,
            reader: EventReader::default(),
            held: Vec::new(),
            stream,
            max_capture_bytes,
        }
    }

    /// Takes a chunk; returns what to forward now.
    pub(super) fn feed(&mut self, chunk: &[u8]) -> Vec<u8> {
        if self.mode == Mode::Raw {
            return chunk.to_vec();
        }
        let mut events = Vec::new();
        self.reader.feed(chunk, &mut events);
        let mut out = Vec::new();
        for event in events {
            self.read_event(event, &mut out);
        }
        let limit = match self.mode {
            Mode::Undecided => MAX_HELD_BYTES,
            Mode::Capture => self.max_capture_bytes,
            _ => usize::MAX,
        };
        if self.reader.spill(&mut self.held, limit, &mut out) {
            // Fail open: the agent gets the stream as it came (our call included, unanswered).
            self.mode = Mode::Raw;
            self.stream.forget();
        }
        out
    }

    /// The stream ended: the reply when it was ours and came whole, else the bytes still to
    /// forward. An event cut off by the end is not read (WHATWG); its bytes are forwarded unless
    /// the stream was captured.
    pub(super) fn finish(mut self) -> Tapped {
        let tail = self.reader.take_pending();
        if self.mode == Mode::Capture {
            if let Some(reply) = self.stream.reply() {
                return Tapped::Captured(reply);
            }
        }
        // Undecided to the end, or ours but cut off before it completed: as it came.
        let mut out = std::mem::take(&mut self.held);
        out.extend(tail);
        Tapped::Passthrough(out, self.stream.removed())
    }

    /// One whole event.
    fn read_event(&mut self, event: Event, out: &mut Vec<u8>) {
        let Event { raw, data } = event;
        let parsed = data
            .as_deref()
            .and_then(|d| serde_json::from_str::<Value>(d).ok());
        if self.mode == Mode::Undecided {
            self.mode = match (&data, &parsed) {
                (None, _) => Mode::Undecided,         // a comment or a blank event
                (Some(_), None) => Mode::Passthrough, // `[DONE]`, or data we do not read
                (Some(_), Some(event)) => self.stream.decide(event),
            };
            if !matches!(self.mode, Mode::Undecided | Mode::Capture) {
                out.append(&mut self.held);
                self.stream.forget();
            }
        }
        match self.mode {
            Mode::Raw => out.extend(raw),
            Mode::Passthrough => out.extend(self.stream.pass(raw, parsed)),
            Mode::Undecided | Mode::Capture => {
                self.held.extend(raw);
                self.stream.keep(parsed);
            }
        }
    }
}
