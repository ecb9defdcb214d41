//! The time limit of one request, checked cooperatively by the engine and inside compressors.
//!
//! Work stops when the limit passes, and the whole request then goes out as it came (the report
//! says why): the bytes a compressed request gets never depend on how busy the machine was, only
//! whether it is compressed at all.

use std::time::{Duration, Instant};

/// When the work on one request must stop. `Copy`, so every segment context carries it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    at: Option<Instant>,
}

impl Deadline {
    /// A deadline `budget` from now (`Duration::MAX` or an overflow: none).
    pub(crate) fn after(budget: Duration) -> Deadline {
        Deadline {
            at: Instant::now().checked_add(budget),
        }
    }

    /// No limit (contexts built outside the engine, tests).
    pub(crate) const fn none() -> Deadline {
        Deadline { at: None }
    }

    /// Whether the limit has passed.
    pub(crate) fn passed(&self) -> bool {
        self.at.is_some_and(|at| Instant::now() >= at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_budget_has_passed_and_none_never_does() {
        assert!(Deadline::after(Duration::ZERO).passed());
        assert!(!Deadline::after(Duration::from_secs(3600)).passed());
        assert!(!Deadline::after(Duration::MAX).passed());
        assert!(!Deadline::none().passed());
    }
}
